package io.peft4j.prompt;

/**
 * P-tuning's prompt encoder (PEFT's {@code encoder_reparameterization_type}).
 *
 * <pre>{@code
 * PromptEncoderConfig c = PromptEncoderConfig.builder().setNumVirtualTokens(20).setEncoderHiddenSize(128)
 *         .optEncoderReparameterizationType(EncoderReparameterizationType.MLP).build();
 * }</pre>
 *
 * @since 0.1.0
 */
public enum EncoderReparameterizationType {
    /** Linear(H, E) → ReLU → Linear(E, E) → ReLU → Linear(E, H) over the virtual-token table (PEFT's default). */
    MLP,
    /** A bidirectional LSTM followed by an MLP head; read and written in configs, not implemented by peft4j. */
    LSTM
}
