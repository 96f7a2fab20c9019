package io.peft4j.datasets.internal;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.tree.Node;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.ChatTemplateException;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Message;
import io.peft4j.datasets.SpecialTokens;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Jinja chat template rendered with jinjava, configured like transformers' sandboxed environment
 * ({@code trim_blocks}, {@code lstrip_blocks}, no trailing newline) plus {@link JinjaShims}. Template variables:
 * {@code messages} (list of {role, content}), {@code add_generation_prompt}, {@code bos_token}, {@code eos_token},
 * and {@code input} (the conversation's Alpaca input: the alpaca template shows it in its own section, every other
 * template gets it appended to the first user message). Immutable and thread-safe.
 */
public final class JinjaChatTemplate implements ChatTemplate {
    private static final Jinjava JINJAVA = JinjaShims.newJinjava();

    private final String name;
    private final String source;
    private final SpecialTokens tokens;
    private final boolean foldsInput;
    private volatile Node tree;
    private volatile boolean parseFailed;

    private JinjaChatTemplate(String name, String source, SpecialTokens tokens, boolean foldsInput) {
        this.name = name;
        this.source = JinjaShims.rewrite(source);
        this.tokens = tokens;
        this.foldsInput = foldsInput;
    }

    /** A model's template; its syntax is checked by one trial render. */
    public static JinjaChatTemplate of(String name, String source, SpecialTokens tokens) throws ChatTemplateException {
        JinjaChatTemplate t = new JinjaChatTemplate(name, source, tokens, true);
        RenderResult r = t.renderRaw(List.of(Message.user("x"), Message.assistant("y")), "", false);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL && raised(e) == null) {
                throw new ChatTemplateException("chat template '" + name + "' does not parse: " + describe(e));
            }
        }
        return t;
    }

    /** A built-in template from this module's resources. */
    public static JinjaChatTemplate builtIn(String name, SpecialTokens tokens) {
        if (!ChatTemplate.BUILT_IN.contains(name)) {
            throw new IllegalArgumentException("unknown template '" + name + "'; built-in templates: "
                    + String.join(", ", ChatTemplate.BUILT_IN) + " (or 'chat' for the model's own)");
        }
        String resource = "/io/peft4j/datasets/templates/" + name + ".jinja";
        try (InputStream in = JinjaChatTemplate.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            String src = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new JinjaChatTemplate(name, src, tokens, !"alpaca".equals(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The source of a built-in template, as shipped (for golden tests and {@code inspect}). */
    public static String builtInSource(String name) {
        try (InputStream in = JinjaChatTemplate.class.getResourceAsStream(
                "/io/peft4j/datasets/templates/" + name + ".jinja")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SpecialTokens specialTokens() {
        return tokens;
    }

    @Override
    public String render(Conversation conversation, boolean addGenerationPrompt) throws ChatTemplateException {
        List<Message> messages = foldsInput ? conversation.messagesWithInput() : conversation.messages();
        RenderResult r = renderRaw(messages, conversation.input(), addGenerationPrompt);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                String raised = raised(e);
                throw new ChatTemplateException("chat template '" + name + "': "
                        + (raised != null ? raised : describe(e)));
            }
        }
        return r.getOutput();
    }

    private RenderResult renderRaw(List<Message> messages, String input, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> map = new HashMap<>(4);
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        JinjavaInterpreter interpreter = JINJAVA.newInterpreter();
        Context ctx = interpreter.getContext();
        ctx.put("messages", list);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", tokens.bos());
        ctx.put("eos_token", tokens.eos());
        ctx.put("input", input);
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            Node root = parsed();
            String out = root == null ? interpreter.render(source) : interpreter.render(root);
            return new RenderResult(out, ctx, interpreter.getErrorsCopy());
        } finally {
            JinjavaInterpreter.popCurrent();
        }
    }

    /** The parse tree, built once (parsing dominated rendering time); null when the source does not parse. */
    private Node parsed() {
        Node root = tree;
        if (root == null && !parseFailed) {
            JinjavaInterpreter parser = JINJAVA.newInterpreter();
            root = parser.parse(source);
            if (parser.getErrors().isEmpty()) {
                tree = root;
            } else {
                parseFailed = true;
                root = null;
            }
        }
        return root;
    }

    /** The message of a {@code raise_exception} call behind {@code e}, or null. */
    private static String raised(TemplateError e) {
        String msg = e.getMessage();
        int at = msg == null ? -1 : msg.indexOf(JinjaShims.RAISED);
        return at < 0 ? null : msg.substring(at + JinjaShims.RAISED.length());
    }

    private static String describe(TemplateError e) {
        return e.getMessage() + (e.getLineno() > 0 ? " (template line " + e.getLineno() + ")" : "");
    }
}
