package io.peft4j.prompt;

/**
 * How a prompt-tuning adapter's virtual-token embeddings start (PEFT's {@code prompt_tuning_init}).
 *
 * <pre>{@code
 * PromptTuningConfig c = PromptTuningConfig.builder().setNumVirtualTokens(8)
 *         .optPromptTuningInit(PromptTuningInit.SAMPLE_VOCAB).build();
 * }</pre>
 *
 * @since 0.1.0
 */
public enum PromptTuningInit {
    /** Standard normal values (torch's {@code nn.Embedding} default); may fall outside the embedding manifold. */
    RANDOM,
    /** Rows of the base model's embedding matrix at uniformly drawn token ids. */
    SAMPLE_VOCAB,
    /** The embeddings of {@code prompt_tuning_init_text}'s tokens, repeated or truncated to the virtual tokens. */
    TEXT
}
