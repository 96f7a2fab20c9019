package io.peft4j.quant.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantType;

import java.util.List;

/**
 * The {@code quantization_config} node of {@code config.json}: for NF4/FP4 exactly the fields transformers 5 writes
 * for {@code BitsAndBytesConfig(load_in_4bit=True, ...)} with fp32 compute; for INT8 peft4j's own
 * {@code {"quant_method": "peft4j", ...}} (transformers has no blockwise-INT8 format and refuses it clearly).
 */
public final class QuantizationConfigJson {
    public static final String BNB = "bitsandbytes";
    public static final String PEFT4J = "peft4j";

    private QuantizationConfigJson() {
    }

    /** @param denseLeaves projections kept fp32 besides {@code lm_head} ({@code llm_int8_skip_modules}) */
    public static ObjectNode of(QuantConfig config, List<String> denseLeaves) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        if (config.type() == QuantType.INT8) {
            n.put("quant_method", PEFT4J);
            n.put("quant_type", "int8");
            n.put("blocksize", config.blockSize());
            n.put("double_quant", config.doubleQuant());
            skipModules(n, denseLeaves);
            return n;
        }
        // no block-size field in transformers' BitsAndBytesConfig: each weight's quant_state records it
        n.put("_load_in_4bit", true);
        n.put("_load_in_8bit", false);
        n.put("bnb_4bit_compute_dtype", "float32");
        n.put("bnb_4bit_quant_storage", "uint8");
        n.put("bnb_4bit_quant_type", config.type().bnbName());
        n.put("bnb_4bit_use_double_quant", config.doubleQuant());
        n.put("llm_int8_enable_fp32_cpu_offload", false);
        n.put("llm_int8_has_fp16_weight", false);
        skipModules(n, denseLeaves);
        n.put("llm_int8_threshold", 6.0);
        n.put("load_in_4bit", true);
        n.put("load_in_8bit", false);
        n.put("quant_method", BNB);
        return n;
    }

    private static void skipModules(ObjectNode n, List<String> denseLeaves) {
        if (denseLeaves.isEmpty()) {
            n.putNull("llm_int8_skip_modules");
        } else {
            ArrayNode a = n.putArray("llm_int8_skip_modules");
            a.add("lm_head");
            denseLeaves.stream().distinct().forEach(a::add);
        }
    }

    /** {@code bitsandbytes}, {@code peft4j}, another method's name, or {@code null} when {@code config} has none. */
    public static String method(JsonNode config) {
        JsonNode q = config == null ? null : config.get("quantization_config");
        return q == null || q.isNull() ? null : q.path("quant_method").asText(null);
    }

    /** Whether {@code config} declares bitsandbytes' 8-bit LLM.int8 format, which peft4j cannot load. */
    public static boolean isBnbEightBit(JsonNode config) {
        JsonNode q = config.path("quantization_config");
        return BNB.equals(method(config)) && (q.path("load_in_8bit").asBoolean(false)
                || q.path("_load_in_8bit").asBoolean(false));
    }
}
