package io.peft4j.datasets.internal;

import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.ChatTemplateException;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Message;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the trained character spans of a rendered conversation without knowing the template's layout: for each
 * assistant turn i it renders the first i messages with the generation prompt (where the response starts) and
 * the first i+1 without (where the turn ends), checks both are prefixes of the whole render, and locates the
 * message content between them. A span runs from the content's start through the template's EOS text when that
 * follows within the turn (e.g. {@code <|im_end|>}, {@code </s>}), else through the end of the turn.
 * Stateless and thread-safe.
 */
public final class TurnSegmenter {
    private TurnSegmenter() {
    }

    /** A half-open character range {@code [start, end)}. */
    public record Span(int start, int end) {
    }

    /** The whole render and its trained spans in order. */
    public record Segmented(String text, List<Span> trained) {
    }

    public static Segmented segment(ChatTemplate template, Conversation c) throws ChatTemplateException {
        String full = template.render(c, false);
        String eos = template.specialTokens().eos();
        List<Message> msgs = c.messages();
        List<Span> spans = new ArrayList<>();
        int cursor = 0;
        for (int i = 0; i < msgs.size(); i++) {
            if (!msgs.get(i).isAssistant()) {
                continue;
            }
            int promptEnd = Math.max(cursor, i == 0 ? 0 : promptEnd(template, c, i, full));
            int turnEnd = i == msgs.size() - 1 ? full.length() : turnEnd(template, c, i, full);
            Span content = locate(template, full, msgs.get(i).content(), promptEnd, turnEnd, i);
            int end = Math.max(content.end(), turnEnd);
            int k = eos.isEmpty() ? -1 : full.indexOf(eos, content.end());
            if (k >= 0 && k + eos.length() <= Math.max(turnEnd, content.end())) {
                end = k + eos.length();
            }
            spans.add(new Span(content.start(), end));
            cursor = end;
        }
        return new Segmented(full, spans);
    }

    private static int promptEnd(ChatTemplate t, Conversation c, int i, String full) throws ChatTemplateException {
        Conversation head = new Conversation(c.messages().subList(0, i), c.input());
        String withPrompt = t.render(head, true);
        if (full.startsWith(withPrompt)) {
            return withPrompt.length();
        }
        String without = t.render(head, false);
        if (full.startsWith(without)) {
            return without.length();
        }
        throw new ChatTemplateException("chat template '" + t.name() + "' renders the first " + i
                + " messages differently from the start of the whole conversation, so assistant turn " + i
                + " cannot be located for masking (use trainOnInputs, or a built-in template)");
    }

    private static int turnEnd(ChatTemplate t, Conversation c, int i, String full) throws ChatTemplateException {
        String upTo = t.render(new Conversation(c.messages().subList(0, i + 1), c.input()), false);
        return full.startsWith(upTo) ? upTo.length() : -1;
    }

    private static Span locate(ChatTemplate t, String full, String content, int from, int turnEnd, int i)
            throws ChatTemplateException {
        int limit = turnEnd < 0 ? full.length() : turnEnd;
        for (String candidate : new String[] {content, PyStringMethods.strip(content, null, true, true)}) {
            int at = full.indexOf(candidate, from);
            if (at >= 0 && at + candidate.length() <= limit) {
                return new Span(at, at + candidate.length());
            }
        }
        throw new ChatTemplateException("chat template '" + t.name() + "': the content of assistant message " + i
                + " does not appear verbatim (nor stripped) in the render, so it cannot be masked");
    }
}
