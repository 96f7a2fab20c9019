package io.peft4j.lora;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.lora.internal.IntegralDoubleSerializer;
import io.peft4j.lora.internal.PatternKeys;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA settings with PEFT's {@code adapter_config.json} field names and defaults (LoRA: Hu et al. 2021,
 * arXiv:2106.09685; rsLoRA: Kalajdzievski 2023, arXiv:2312.03732; DoRA: Liu et al. 2024, arXiv:2402.09353).
 * Immutable: lists and maps are unmodifiable copies (maps keep their order: the first matching pattern key wins, as
 * in PEFT); derive variants with {@link #toBuilder()}. Unknown JSON fields are kept in {@link #extraFields()} and
 * written back unchanged.
 *
 * <pre>{@code
 * LoraConfig config = LoraConfig.builder().optR(16).optLoraAlpha(32)
 *         .optTargetModules(TargetModules.of("q_proj", "v_proj")).build();
 * peft.addAdapter("default", config, 42L);
 * }</pre>
 *
 * @param r                 rank (default 8)
 * @param loraAlpha         scaling numerator (default 8): scale = alpha/r, or alpha/√r with {@code useRslora}
 * @param loraDropout       dropout on the adapter input while training (default 0)
 * @param targetModules     which projections get an adapter; {@code null} means q_proj and v_proj (PEFT's llama default)
 * @param excludeModules    projections never targeted (nullable)
 * @param layersToTransform only these decoder-layer indices (nullable = all)
 * @param layersPattern     name of the layer list in module paths, e.g. {@code layers} (nullable)
 * @param rankPattern       regex (suffix match) → rank overrides
 * @param alphaPattern      regex (suffix match) → alpha overrides
 * @param bias              which biases are trained and saved (JSON {@code none}, {@code all}, {@code lora_only})
 * @param useRslora         rank-stabilised scaling alpha/√r
 * @param useDora           weight-decomposed LoRA with a trainable magnitude per output row
 * @param initLoraWeights   initialisation scheme
 * @param fanInFanOut       PEFT flag for GPT-2 style Conv1D weights; peft4j projections are always {@code [out, in]},
 *                          so it is kept for round trips only
 * @param modulesToSave     modules trained in full as per-adapter copies (projections, lm_head, embed_tokens, norms)
 * @param taskType          e.g. {@code CAUSAL_LM}
 * @param baseModelNameOrPath base model name, informational
 * @param peftType          always {@code LORA}
 * @param extraFields       JSON fields not modelled here, in file order, written back unchanged
 *
 * @since 0.1.0
 */
@JsonPropertyOrder(alphabetic = true)
public record LoraConfig(
        @JsonProperty("r") @JsonDeserialize(using = RankDeserializer.class) int r,
        @JsonProperty("lora_alpha") @JsonSerialize(using = IntegralDoubleSerializer.class) double loraAlpha,
        @JsonProperty("lora_dropout") double loraDropout,
        @JsonProperty("target_modules") TargetModules targetModules,
        @JsonProperty("exclude_modules") TargetModules excludeModules,
        @JsonProperty("layers_to_transform") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        List<Integer> layersToTransform,
        @JsonProperty("layers_pattern") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        List<String> layersPattern,
        @JsonProperty("rank_pattern") Map<String, Integer> rankPattern,
        @JsonProperty("alpha_pattern") Map<String, Double> alphaPattern,
        @JsonProperty("bias") LoraBias bias,
        @JsonProperty("use_rslora") boolean useRslora,
        @JsonProperty("use_dora") boolean useDora,
        @JsonProperty("init_lora_weights") InitLoraWeights initLoraWeights,
        @JsonProperty("fan_in_fan_out") boolean fanInFanOut,
        @JsonProperty("modules_to_save") List<String> modulesToSave,
        @JsonProperty("task_type") String taskType,
        @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
        @JsonProperty("peft_type") String peftType,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields) implements AdapterConfig {

    /** PEFT's {@code peft_type} for LoRA. */
    public static final String PEFT_TYPE = "LORA";

    public LoraConfig {
        loraAlpha = loraAlpha == 0 ? 8 : loraAlpha;
        require(r > 0, "r", r);
        require(loraAlpha > 0, "lora_alpha", loraAlpha);
        require(loraDropout >= 0 && loraDropout < 1, "lora_dropout", loraDropout);
        bias = bias == null ? LoraBias.NONE : bias;
        peftType = peftType == null ? PEFT_TYPE : peftType;
        require(PEFT_TYPE.equals(peftType), "peft_type", peftType);
        initLoraWeights = initLoraWeights == null ? InitLoraWeights.DEFAULT : initLoraWeights;
        rankPattern = ordered(rankPattern);
        alphaPattern = ordered(alphaPattern);
        rankPattern.forEach((k, v) -> require(v != null && v > 0, "rank_pattern['" + k + "']", v));
        alphaPattern.forEach((k, v) -> require(v != null && v > 0, "alpha_pattern['" + k + "']", v));
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        layersPattern = layersPattern == null ? null : List.copyOf(layersPattern);
        modulesToSave = modulesToSave == null ? null : List.copyOf(modulesToSave);
        extraFields = ordered(extraFields);
    }

    /** An unmodifiable copy keeping {@code m}'s order (and null values, which JSON fields may have). */
    private static <K, V> Map<K, V> ordered(Map<K, V> m) {
        return m == null || m.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid LoRA config: " + field + " = " + value);
        }
    }

    @Override
    public Map<String, Object> extraFields() {
        return extraFields;
    }

    /** What {@code peft4j inspect --adapter} shows of a LoRA config. */
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public List<String> summaryFields() {
        return List.of("r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora", "use_dora", "bias");
    }

    /** Rank for {@code modulePath}: the first {@code rank_pattern} key matching as PEFT does, else {@link #r()}. */
    public int rankFor(String modulePath) {
        String key = PatternKeys.find(rankPattern.keySet(), modulePath);
        return key == null ? r : rankPattern.get(key);
    }

    /** Alpha for {@code modulePath} from {@code alpha_pattern}, else {@link #loraAlpha()}. */
    public double alphaFor(String modulePath) {
        String key = PatternKeys.find(alphaPattern.keySet(), modulePath);
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /** Adapter output scale for {@code modulePath}: alpha/r, or alpha/√r with rsLoRA. */
    @JsonIgnore
    public double scaleFor(String modulePath) {
        int rank = rankFor(modulePath);
        double alpha = alphaFor(modulePath);
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with this config's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builder: every setting is optional and defaults as in PEFT. */
    public static final class Builder extends LoraConfigBuilderBase<Builder> {
        Builder() {
        }

        Builder(LoraConfig c) {
            super(c);
        }

        public LoraConfig build() {
            return new LoraConfig(r, alpha, dropout, target, exclude, layers, layersPattern, rankPattern,
                    alphaPattern, bias, rslora, dora, init, fanInFanOut, modulesToSave, taskType, baseModel,
                    PEFT_TYPE, new LinkedHashMap<>(extra));
        }
    }
}
