package io.peft4j.prompt;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prompt tuning (Lester et al. 2021, arXiv:2104.08691) with PEFT's {@code adapter_config.json} field names and
 * defaults: {@code num_virtual_tokens} trainable embeddings prepended to every input of a frozen model. Immutable;
 * unknown JSON fields are kept in {@link #extraFields()} and written back.
 *
 * <pre>{@code
 * PromptTuningConfig config = PromptTuningConfig.builder().setNumVirtualTokens(20)
 *         .optPromptTuningInitText("Answer like a pirate:", tokenizer).optTokenizerNameOrPath("SmolLM2").build();
 * peft.addAdapter("default", config, 42L);
 * }</pre>
 *
 * @param numVirtualTokens         {@code num_virtual_tokens}, at least 1
 * @param tokenDim                 {@code token_dim}: hidden size (filled on attach)
 * @param numTransformerSubmodules {@code num_transformer_submodules}: 1 for decoder-only (filled on attach)
 * @param numAttentionHeads        {@code num_attention_heads} (filled on attach, informational)
 * @param numLayers                {@code num_layers} (filled on attach, informational)
 * @param promptTuningInit         {@code prompt_tuning_init} (default RANDOM)
 * @param promptTuningInitText     {@code prompt_tuning_init_text}, required for TEXT
 * @param tokenizerNameOrPath      {@code tokenizer_name_or_path}, required for TEXT (as PEFT requires it)
 * @param tokenizerKwargs          {@code tokenizer_kwargs}, only with TEXT; kept for round trips
 * @param modulesToSave            {@code modules_to_save}: not supported, must be null or empty
 * @param taskType                 e.g. {@code CAUSAL_LM}
 * @param baseModelNameOrPath      base model name, informational
 * @param revision                 base model revision, informational
 * @param inferenceMode            {@code inference_mode}: no initialisation (weights come from a file)
 * @param peftType                 always {@code PROMPT_TUNING}
 * @param initTokenIds             the tokenized init text (not serialised; needed to attach a fresh TEXT adapter)
 * @param extraFields              JSON fields not modelled here, written back unchanged
 *
 * @since 0.1.0
 */
@JsonPropertyOrder(alphabetic = true)
public record PromptTuningConfig(
        @JsonProperty("num_virtual_tokens") int numVirtualTokens,
        @JsonProperty("token_dim") Integer tokenDim,
        @JsonProperty("num_transformer_submodules") Integer numTransformerSubmodules,
        @JsonProperty("num_attention_heads") Integer numAttentionHeads,
        @JsonProperty("num_layers") Integer numLayers,
        @JsonProperty("prompt_tuning_init") PromptTuningInit promptTuningInit,
        @JsonProperty("prompt_tuning_init_text") String promptTuningInitText,
        @JsonProperty("tokenizer_name_or_path") String tokenizerNameOrPath,
        @JsonProperty("tokenizer_kwargs") Map<String, Object> tokenizerKwargs,
        @JsonProperty("modules_to_save") List<String> modulesToSave,
        @JsonProperty("task_type") String taskType,
        @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
        @JsonProperty("revision") String revision,
        @JsonProperty("inference_mode") boolean inferenceMode,
        @JsonProperty("peft_type") String peftType,
        @JsonIgnore List<Integer> initTokenIds,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields) implements PromptLearningConfig {

    /** PEFT's {@code peft_type} for prompt tuning. */
    public static final String PEFT_TYPE = "PROMPT_TUNING";

    public PromptTuningConfig {
        require(numVirtualTokens > 0, "num_virtual_tokens", numVirtualTokens);
        promptTuningInit = promptTuningInit == null ? PromptTuningInit.RANDOM : promptTuningInit;
        peftType = peftType == null ? PEFT_TYPE : peftType;
        require(PEFT_TYPE.equals(peftType), "peft_type", peftType);
        if (promptTuningInit == PromptTuningInit.TEXT) {
            require(promptTuningInitText != null, "prompt_tuning_init_text (required for TEXT init)", null);
            require(tokenizerNameOrPath != null && !tokenizerNameOrPath.isEmpty(),
                    "tokenizer_name_or_path (required for TEXT init)", tokenizerNameOrPath);
        } else {
            require(tokenizerKwargs == null || tokenizerKwargs.isEmpty(), "tokenizer_kwargs (only for TEXT init)",
                    tokenizerKwargs);
        }
        require(modulesToSave == null || modulesToSave.isEmpty(),
                "modules_to_save (not supported for prompt learning in peft4j)", modulesToSave);
        require(tokenDim == null || tokenDim > 0, "token_dim", tokenDim);
        initTokenIds = initTokenIds == null ? null : List.copyOf(initTokenIds);
        require(initTokenIds == null || !initTokenIds.isEmpty(), "prompt_tuning_init_text (no tokens)", "\"\"");
        extraFields = extraFields == null ? new LinkedHashMap<>() : extraFields;
    }

    static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid prompt-learning config: " + field + " = " + value);
        }
    }

    @Override
    public Map<String, Object> extraFields() {
        return extraFields;
    }

    /** What {@code peft4j inspect --adapter} shows of a prompt-tuning config. */
    @Override
    @JsonIgnore
    public List<String> summaryFields() {
        return List.of("num_virtual_tokens", "token_dim", "prompt_tuning_init", "prompt_tuning_init_text");
    }

    @Override
    public PromptTuningConfig withModelDims(ModelConfig model) {
        PromptLearningConfig.checkDims(this, numLayers, numAttentionHeads, model);
        return new PromptTuningConfig(numVirtualTokens, model.hiddenSize(), 1, model.numHeads(), model.numLayers(),
                promptTuningInit, promptTuningInitText, tokenizerNameOrPath, tokenizerKwargs, modulesToSave,
                taskType, baseModelNameOrPath, revision, inferenceMode, peftType, initTokenIds,
                new LinkedHashMap<>(extraFields));
    }

    @Override
    public PromptTuningConfig withInferenceMode(boolean mode) {
        return new PromptTuningConfig(numVirtualTokens, tokenDim, numTransformerSubmodules, numAttentionHeads,
                numLayers, promptTuningInit, promptTuningInitText, tokenizerNameOrPath, tokenizerKwargs, modulesToSave,
                taskType, baseModelNameOrPath, revision, mode, peftType, initTokenIds, new LinkedHashMap<>(extraFields));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setNumVirtualTokens} is required; everything else defaults as in PEFT. */
    public static final class Builder {
        private int numVirtualTokens;
        private PromptTuningInit init = PromptTuningInit.RANDOM;
        private String initText;
        private List<Integer> initIds;
        private String tokenizerNameOrPath;
        private String taskType = "CAUSAL_LM";
        private String baseModel;
        private boolean inferenceMode;

        Builder() {
        }

        public Builder setNumVirtualTokens(int n) {
            this.numVirtualTokens = n;
            return this;
        }

        /** RANDOM or SAMPLE_VOCAB; for TEXT use {@link #optPromptTuningInitText}. */
        public Builder optPromptTuningInit(PromptTuningInit init) {
            this.init = init;
            return this;
        }

        /** TEXT init: {@code text} is tokenized with {@code tokenizer} as PEFT does ({@code tokenizer(text)}). */
        public Builder optPromptTuningInitText(String text, Tokenizer tokenizer) {
            this.init = PromptTuningInit.TEXT;
            this.initText = text;
            this.initIds = Arrays.stream(tokenizer.encode(text, true)).boxed().toList();
            return this;
        }

        /** {@code tokenizer_name_or_path}; defaults to {@code base_model_name_or_path} for TEXT init. */
        public Builder optTokenizerNameOrPath(String name) {
            this.tokenizerNameOrPath = name;
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

        public Builder optInferenceMode(boolean inferenceMode) {
            this.inferenceMode = inferenceMode;
            return this;
        }

        public PromptTuningConfig build() {
            String tok = tokenizerNameOrPath == null && init == PromptTuningInit.TEXT ? baseModel : tokenizerNameOrPath;
            return new PromptTuningConfig(numVirtualTokens, null, null, null, null, init, initText, tok, null, null,
                    taskType, baseModel, null, inferenceMode, PEFT_TYPE, initIds, new LinkedHashMap<>());
        }
    }
}
