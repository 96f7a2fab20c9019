package io.peft4j.datasets;

import io.peft4j.datasets.internal.JinjaChatTemplate;

import java.util.List;

/**
 * Renders a {@link Conversation} to the text a model is trained on or prompted with. Built-in templates
 * ({@link #BUILT_IN}) are Jinja sources shipped in this module; {@link #jinja} renders a model's own
 * {@code chat_template} (from {@code tokenizer_config.json} or GGUF metadata) the way Python transformers'
 * {@code apply_chat_template} does.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.named("chatml", SpecialTokens.of(tokenizer));
 * String prompt = t.render(Conversation.of(Message.user("Hi")), true);
 * // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
 * }</pre>
 * Implementations are immutable and thread-safe.
 *
 * @since 0.1.0
 */
public interface ChatTemplate {
    /** Names accepted by {@link #named}. */
    List<String> BUILT_IN = List.of("alpaca", "chatml", "llama-2", "llama-3", "mistral", "vicuna", "zephyr");

    /** The template's name ({@code chat} for a model's own template). */
    String name();

    /**
     * The text of {@code conversation}; with {@code addGenerationPrompt} the opening of an assistant turn follows
     * (as in transformers' {@code add_generation_prompt=True}).
     */
    String render(Conversation conversation, boolean addGenerationPrompt) throws ChatTemplateException;

    /** The special tokens this template was built with. */
    SpecialTokens specialTokens();

    /** A built-in template by name (see {@link #BUILT_IN}); an unknown name lists the known ones. */
    static ChatTemplate named(String name, SpecialTokens tokens) {
        return JinjaChatTemplate.builtIn(name, tokens);
    }

    /**
     * {@code chat} (the model's own template, which must exist) or a built-in name, with the tokenizer's special
     * tokens. Used by the {@code --template NAME|chat} options of the CLI.
     */
    static ChatTemplate resolve(String nameOrChat, java.util.Optional<String> modelTemplate,
                                io.peft4j.core.tokenizer.Tokenizer tokenizer) throws ChatTemplateException {
        SpecialTokens tokens = SpecialTokens.of(tokenizer);
        if (!"chat".equals(nameOrChat)) {
            return named(nameOrChat, tokens);
        }
        String source = modelTemplate.or(tokenizer::chatTemplate).orElseThrow(() -> new ChatTemplateException(
                "--template chat: the model/tokenizer has no chat_template; use one of " + BUILT_IN));
        return jinja(source, tokens);
    }

    /** A model's own Jinja {@code chat_template}. Throws when the source does not parse. */
    static ChatTemplate jinja(String source, SpecialTokens tokens) throws ChatTemplateException {
        return JinjaChatTemplate.of("chat", source, tokens);
    }
}
