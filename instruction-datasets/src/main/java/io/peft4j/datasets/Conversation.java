package io.peft4j.datasets;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The normalized record every dataset shape maps to: an ordered list of {@link Message}s plus an optional
 * {@code input} (Alpaca's {@code input}, Dolly's {@code context}). The alpaca template shows {@code input} in its own
 * "### Input:" section; every other template appends it to the first user message ({@link #messagesWithInput()}).
 *
 * <pre>{@code
 * Conversation c = Conversation.of(Message.user("Translate to French"), Message.assistant("Bonjour"))
 *         .withInput("Hello");
 * List<Message> forChat = c.messagesWithInput(); // user: "Translate to French\n\nHello"
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param messages the turns, at least one
 * @param input    extra context for the first user turn; empty when absent
 *
 * @since 0.1.0
 */
public record Conversation(List<Message> messages, String input) {
    public Conversation {
        Objects.requireNonNull(input, "input");
        messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a conversation needs at least one message");
        }
    }

    public static Conversation of(Message... messages) {
        return new Conversation(List.of(messages), "");
    }

    /** Raw text trained as a whole (the {@code text} shape). */
    public static Conversation text(String text) {
        return new Conversation(List.of(new Message(Message.TEXT, text)), "");
    }

    public Conversation withInput(String newInput) {
        return new Conversation(messages, newInput);
    }

    /** True for the {@code text} shape: no template, every token trained. */
    public boolean isPlainText() {
        return messages.size() == 1 && Message.TEXT.equals(messages.get(0).role());
    }

    public boolean hasInput() {
        return !input.isEmpty();
    }

    /** The messages with {@link #input()} appended to the first user turn after a blank line (chat templates). */
    public List<Message> messagesWithInput() {
        if (!hasInput()) {
            return messages;
        }
        List<Message> out = new ArrayList<>(messages);
        for (int i = 0; i < out.size(); i++) {
            if (Message.USER.equals(out.get(i).role())) {
                out.set(i, Message.user(out.get(i).content() + "\n\n" + input));
                return List.copyOf(out);
            }
        }
        return messages;
    }
}
