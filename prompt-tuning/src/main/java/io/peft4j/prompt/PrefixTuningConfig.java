package io.peft4j.prompt;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.peft4j.core.ModelConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.peft4j.prompt.PromptTuningConfig.require;

/**
 * Prefix tuning (Li &amp; Liang 2021, arXiv:2101.00190) with PEFT's {@code PrefixTuningConfig} field names and
 * defaults (peft_type {@code PREFIX_TUNING}): every attention layer gets {@code num_virtual_tokens} trainable key and
 * value positions before the input. As PEFT does for grouped-query models, {@code token_dim} is the key/value width
 * ({@code num_key_value_heads × head_dim}) and {@code num_attention_heads} the number of key/value heads; the saved
 * {@code prompt_embeddings} is {@code [num_virtual_tokens, num_layers × 2 × token_dim]}. With
 * {@code prefix_projection} the prefix is the output of a two-layer tanh MLP over a {@code [P, token_dim]} table
 * (saved, like P-tuning, as that output). Immutable; unknown JSON fields round-trip.
 *
 * <pre>{@code
 * PrefixTuningConfig config = PrefixTuningConfig.builder().setNumVirtualTokens(20).build();
 * peft.addAdapter("default", config, 42L);
 * }</pre>
 *
 * @param numVirtualTokens         {@code num_virtual_tokens}, at least 1
 * @param tokenDim                 {@code token_dim}: key/value width (filled on attach)
 * @param numTransformerSubmodules {@code num_transformer_submodules} (filled on attach)
 * @param numAttentionHeads        {@code num_attention_heads}: key/value heads (filled on attach)
 * @param numLayers                {@code num_layers} (filled on attach)
 * @param encoderHiddenSize        {@code encoder_hidden_size} of the projection (default {@code token_dim})
 * @param prefixProjection         {@code prefix_projection}: train an MLP over a smaller table (default false)
 * @param initWeights              {@code init_weights}: null (random, PEFT's default) or {@code "zero"}
 * @param modulesToSave            must be null or empty
 * @param taskType                 e.g. {@code CAUSAL_LM}
 * @param baseModelNameOrPath      base model name, informational
 * @param revision                 base model revision, informational
 * @param inferenceMode            {@code inference_mode}: no projection, the prefix comes from a file
 * @param peftType                 always {@code PREFIX_TUNING}
 * @param extraFields              JSON fields not modelled here, written back unchanged
 *
 * @since 0.1.0
 */
@JsonPropertyOrder(alphabetic = true)
public record PrefixTuningConfig(
        @JsonProperty("num_virtual_tokens") int numVirtualTokens,
        @JsonProperty("token_dim") Integer tokenDim,
        @JsonProperty("num_transformer_submodules") Integer numTransformerSubmodules,
        @JsonProperty("num_attention_heads") Integer numAttentionHeads,
        @JsonProperty("num_layers") Integer numLayers,
        @JsonProperty("encoder_hidden_size") Integer encoderHiddenSize,
        @JsonProperty("prefix_projection") boolean prefixProjection,
        @JsonProperty("init_weights") String initWeights,
        @JsonProperty("modules_to_save") List<String> modulesToSave,
        @JsonProperty("task_type") String taskType,
        @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
        @JsonProperty("revision") String revision,
        @JsonProperty("inference_mode") boolean inferenceMode,
        @JsonProperty("peft_type") String peftType,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields) implements PromptLearningConfig {

    /** PEFT's {@code peft_type} for prefix tuning. */
    public static final String PEFT_TYPE = "PREFIX_TUNING";

    public PrefixTuningConfig {
        require(numVirtualTokens > 0, "num_virtual_tokens", numVirtualTokens);
        require(encoderHiddenSize == null || encoderHiddenSize > 0, "encoder_hidden_size", encoderHiddenSize);
        require(initWeights == null || initWeights.equals("zero"), "init_weights (null or \"zero\")", initWeights);
        require(tokenDim == null || tokenDim > 0, "token_dim", tokenDim);
        peftType = peftType == null ? PEFT_TYPE : peftType;
        require(PEFT_TYPE.equals(peftType), "peft_type", peftType);
        require(modulesToSave == null || modulesToSave.isEmpty(),
                "modules_to_save (not supported for prompt learning in peft4j)", modulesToSave);
        extraFields = extraFields == null ? new LinkedHashMap<>() : extraFields;
    }

    @Override
    public Map<String, Object> extraFields() {
        return extraFields;
    }

    /** What {@code peft4j inspect --adapter} shows of a prefix-tuning config. */
    @Override
    @JsonIgnore
    public List<String> summaryFields() {
        return List.of("num_virtual_tokens", "token_dim", "num_layers", "prefix_projection");
    }

    /** Floats per virtual token of the saved prefix: {@code num_layers × 2 × token_dim} (after attaching). */
    @JsonIgnore
    public int prefixWidth() {
        if (numLayers == null || tokenDim == null) {
            throw new IllegalStateException("num_layers and token_dim are filled when the adapter is attached");
        }
        return numLayers * 2 * tokenDim;
    }

    /**
     * Fills {@code token_dim} = key/value heads × head dim, {@code num_attention_heads} = key/value heads,
     * {@code num_layers} and {@code encoder_hidden_size} (default {@code token_dim}) as PEFT does for a grouped-query
     * model; a set value that disagrees is refused naming the field.
     */
    @Override
    public PrefixTuningConfig withModelDims(ModelConfig model) {
        int kvWidth = model.numKvHeads() * model.headDim();
        PromptLearningConfig.checkDims(this, numLayers, numAttentionHeads, model, kvWidth,
                "the model's key/value width (" + model.numKvHeads() + " heads × " + model.headDim() + ")",
                model.numKvHeads());
        return new PrefixTuningConfig(numVirtualTokens, kvWidth, 1, model.numKvHeads(), model.numLayers(),
                encoderHiddenSize == null ? kvWidth : encoderHiddenSize, prefixProjection, initWeights, modulesToSave,
                taskType, baseModelNameOrPath, revision, inferenceMode, peftType, new LinkedHashMap<>(extraFields));
    }

    @Override
    public PrefixTuningConfig withInferenceMode(boolean mode) {
        return new PrefixTuningConfig(numVirtualTokens, tokenDim, numTransformerSubmodules, numAttentionHeads,
                numLayers, encoderHiddenSize, prefixProjection, initWeights, modulesToSave, taskType,
                baseModelNameOrPath, revision, mode, peftType, new LinkedHashMap<>(extraFields));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setNumVirtualTokens} is required; everything else defaults as in PEFT. */
    public static final class Builder {
        private int numVirtualTokens;
        private boolean projection;
        private Integer hidden;
        private String initWeights;
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        Builder() {
        }

        public Builder setNumVirtualTokens(int n) {
            this.numVirtualTokens = n;
            return this;
        }

        /** Trains a Linear(token_dim, E) → tanh → Linear(E, layers·2·token_dim) projection of a [P, token_dim] table. */
        public Builder optPrefixProjection(boolean projection) {
            this.projection = projection;
            return this;
        }

        /** The projection's hidden size E (default {@code token_dim}). */
        public Builder optEncoderHiddenSize(int size) {
            this.hidden = size;
            return this;
        }

        /** {@code "zero"} starts from a prefix of zeros (PEFT's {@code init_weights="zero"}); null is random. */
        public Builder optInitWeights(String initWeights) {
            this.initWeights = initWeights;
            return this;
        }

        public Builder optTaskType(String taskType) {
            this.taskType = taskType;
            return this;
        }

        public Builder optBaseModelNameOrPath(String baseModel) {
            this.baseModel = baseModel;
            return this;
        }

        public PrefixTuningConfig build() {
            return new PrefixTuningConfig(numVirtualTokens, null, null, null, null, hidden, projection, initWeights,
                    null, taskType, baseModel, null, false, PEFT_TYPE, new LinkedHashMap<>());
        }
    }
}
