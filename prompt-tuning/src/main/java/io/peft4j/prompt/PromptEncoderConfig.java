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
 * P-tuning (Liu et al. 2021, arXiv:2103.10385) with PEFT's {@code PromptEncoderConfig} field names and defaults
 * (peft_type {@code P_TUNING}): the virtual-token embeddings are the output of a trainable prompt encoder over a
 * trainable table. As in PEFT, the saved adapter holds only the encoder's output ({@code prompt_embeddings}), and a
 * loaded one ({@code inference_mode: true}) uses that table directly. Immutable; unknown JSON fields round-trip.
 *
 * <pre>{@code
 * PromptEncoderConfig config = PromptEncoderConfig.builder().setNumVirtualTokens(20).setEncoderHiddenSize(128).build();
 * peft.addAdapter("default", config, 42L);
 * }</pre>
 *
 * @param numVirtualTokens              {@code num_virtual_tokens}, at least 1
 * @param tokenDim                      {@code token_dim} (filled on attach)
 * @param numTransformerSubmodules      {@code num_transformer_submodules} (filled on attach)
 * @param numAttentionHeads             {@code num_attention_heads} (filled on attach, informational)
 * @param numLayers                     {@code num_layers} (filled on attach, informational)
 * @param encoderReparameterizationType {@code encoder_reparameterization_type} (default MLP; LSTM is refused)
 * @param encoderHiddenSize             {@code encoder_hidden_size}, required to train (PEFT has no default either)
 * @param encoderNumLayers              {@code encoder_num_layers} (default 2; ignored by the MLP, as in PEFT)
 * @param encoderDropout                {@code encoder_dropout} (default 0; used by PEFT's LSTM only)
 * @param modulesToSave                 must be null or empty
 * @param taskType                      e.g. {@code CAUSAL_LM}
 * @param baseModelNameOrPath           base model name, informational
 * @param revision                      base model revision, informational
 * @param inferenceMode                 {@code inference_mode}: no encoder, the table comes from a file
 * @param peftType                      always {@code P_TUNING}
 * @param extraFields                   JSON fields not modelled here, written back unchanged
 *
 * @since 0.1.0
 */
@JsonPropertyOrder(alphabetic = true)
public record PromptEncoderConfig(
        @JsonProperty("num_virtual_tokens") int numVirtualTokens,
        @JsonProperty("token_dim") Integer tokenDim,
        @JsonProperty("num_transformer_submodules") Integer numTransformerSubmodules,
        @JsonProperty("num_attention_heads") Integer numAttentionHeads,
        @JsonProperty("num_layers") Integer numLayers,
        @JsonProperty("encoder_reparameterization_type") EncoderReparameterizationType encoderReparameterizationType,
        @JsonProperty("encoder_hidden_size") Integer encoderHiddenSize,
        @JsonProperty("encoder_num_layers") int encoderNumLayers,
        @JsonProperty("encoder_dropout") double encoderDropout,
        @JsonProperty("modules_to_save") List<String> modulesToSave,
        @JsonProperty("task_type") String taskType,
        @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
        @JsonProperty("revision") String revision,
        @JsonProperty("inference_mode") boolean inferenceMode,
        @JsonProperty("peft_type") String peftType,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields) implements PromptLearningConfig {

    /** PEFT's {@code peft_type} for P-tuning. */
    public static final String PEFT_TYPE = "P_TUNING";

    public PromptEncoderConfig {
        require(numVirtualTokens > 0, "num_virtual_tokens", numVirtualTokens);
        encoderReparameterizationType = encoderReparameterizationType == null ? EncoderReparameterizationType.MLP
                : encoderReparameterizationType;
        encoderNumLayers = encoderNumLayers == 0 ? 2 : encoderNumLayers;
        require(encoderNumLayers > 0, "encoder_num_layers", encoderNumLayers);
        require(encoderDropout >= 0 && encoderDropout < 1, "encoder_dropout", encoderDropout);
        require(encoderHiddenSize == null || encoderHiddenSize > 0, "encoder_hidden_size", encoderHiddenSize);
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

    /** What {@code peft4j inspect --adapter} shows of a P-tuning config. */
    @Override
    @JsonIgnore
    public List<String> summaryFields() {
        return List.of("num_virtual_tokens", "token_dim", "encoder_reparameterization_type", "encoder_hidden_size");
    }

    @Override
    public PromptEncoderConfig withModelDims(ModelConfig model) {
        PromptLearningConfig.checkDims(this, numLayers, numAttentionHeads, model);
        return new PromptEncoderConfig(numVirtualTokens, model.hiddenSize(), 1, model.numHeads(), model.numLayers(),
                encoderReparameterizationType, encoderHiddenSize, encoderNumLayers, encoderDropout, modulesToSave,
                taskType, baseModelNameOrPath, revision, inferenceMode, peftType, new LinkedHashMap<>(extraFields));
    }

    @Override
    public PromptEncoderConfig withInferenceMode(boolean mode) {
        return new PromptEncoderConfig(numVirtualTokens, tokenDim, numTransformerSubmodules, numAttentionHeads,
                numLayers, encoderReparameterizationType, encoderHiddenSize, encoderNumLayers, encoderDropout,
                modulesToSave, taskType, baseModelNameOrPath, revision, mode, peftType, new LinkedHashMap<>(extraFields));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setNumVirtualTokens} and {@code setEncoderHiddenSize} are required. */
    public static final class Builder {
        private int numVirtualTokens;
        private Integer hidden;
        private EncoderReparameterizationType type = EncoderReparameterizationType.MLP;
        private int numLayers = 2;
        private double dropout;
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        Builder() {
        }

        public Builder setNumVirtualTokens(int n) {
            this.numVirtualTokens = n;
            return this;
        }

        public Builder setEncoderHiddenSize(int size) {
            this.hidden = size;
            return this;
        }

        public Builder optEncoderReparameterizationType(EncoderReparameterizationType type) {
            this.type = type;
            return this;
        }

        /** LSTM layers (PEFT's default 2; the MLP encoder ignores it, as PEFT's does). */
        public Builder optEncoderNumLayers(int layers) {
            this.numLayers = layers;
            return this;
        }

        /** Dropout between LSTM layers while training (default 0; the MLP encoder ignores it, as PEFT's does). */
        public Builder optEncoderDropout(double dropout) {
            this.dropout = dropout;
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

        public PromptEncoderConfig build() {
            return new PromptEncoderConfig(numVirtualTokens, null, null, null, null, type, hidden, numLayers, dropout,
                    null,
                    taskType, baseModel, null, false, PEFT_TYPE, new LinkedHashMap<>());
        }
    }
}
