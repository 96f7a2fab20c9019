package io.peft4j.prompt;

import io.peft4j.core.ModelConfig;
import io.peft4j.core.adapter.AdapterConfig;

/**
 * The settings every prompt-learning method shares (PEFT's {@code PromptLearningConfig}): how many virtual tokens
 * are prepended and the model dimensions PEFT records beside them. Implemented by {@link PromptTuningConfig},
 * {@link PromptEncoderConfig} and {@link PrefixTuningConfig}.
 *
 * <pre>{@code
 * PromptLearningConfig c = (PromptLearningConfig) peft.adapter("default").config();
 * int virtualTokens = c.numVirtualTokens();
 * }</pre>
 *
 * @since 0.1.0
 */
public interface PromptLearningConfig extends AdapterConfig {

    /** {@code num_virtual_tokens}: soft-prompt rows prepended to every input. */
    int numVirtualTokens();

    /** {@code token_dim}: the base model's hidden size, or null until attached. */
    Integer tokenDim();

    /** {@code num_transformer_submodules}: 1 for decoder-only models, or null until attached. */
    Integer numTransformerSubmodules();

    /** {@code inference_mode}: PEFT skips the initialisation (weights come from a file) when true. */
    boolean inferenceMode();

    /**
     * This config with the model-dependent fields PEFT fills when it attaches ({@code token_dim},
     * {@code num_layers}, {@code num_attention_heads}, {@code num_transformer_submodules}) taken from {@code model};
     * {@link IllegalArgumentException} naming the field when a set value disagrees with the model.
     */
    PromptLearningConfig withModelDims(ModelConfig model);

    /** This config with {@code inference_mode} set (PEFT saves adapters with {@code true}). */
    PromptLearningConfig withInferenceMode(boolean inferenceMode);

    /** Checks the shared fields against {@code model} (used by {@link #withModelDims}). */
    static void checkDims(PromptLearningConfig c, Integer numLayers, Integer numHeads, ModelConfig model) {
        checkDims(c, numLayers, numHeads, model, model.hiddenSize(), "the model's hidden size", model.numHeads());
    }

    /**
     * {@link #checkDims(PromptLearningConfig, Integer, Integer, ModelConfig)} against the {@code token_dim} and
     * {@code num_attention_heads} the method derives from the model ({@code tokenDimSource} names where it comes
     * from in the error).
     */
    static void checkDims(PromptLearningConfig c, Integer numLayers, Integer numHeads, ModelConfig model,
                          int tokenDim, String tokenDimSource, int heads) {
        String what = "invalid " + c.peftType() + " config for this base model: ";
        if (c.tokenDim() != null && c.tokenDim() != tokenDim) {
            throw new IllegalArgumentException(what + "token_dim = " + c.tokenDim() + " but " + tokenDimSource + " is "
                    + tokenDim);
        }
        if (c.numTransformerSubmodules() != null && c.numTransformerSubmodules() != 1) {
            throw new IllegalArgumentException(what + "num_transformer_submodules = " + c.numTransformerSubmodules()
                    + " but a decoder-only model has 1");
        }
        if (numLayers != null && numLayers != model.numLayers()) {
            throw new IllegalArgumentException(what + "num_layers = " + numLayers + " but the model has "
                    + model.numLayers());
        }
        if (numHeads != null && numHeads != heads) {
            throw new IllegalArgumentException(what + "num_attention_heads = " + numHeads + " but the model has "
                    + heads);
        }
        if (model.maxPositions() > 0 && c.numVirtualTokens() >= model.maxPositions()) {
            throw new IllegalArgumentException(what + "num_virtual_tokens = " + c.numVirtualTokens()
                    + " leaves no room for the input in the context window of " + model.maxPositions() + " positions");
        }
    }
}
