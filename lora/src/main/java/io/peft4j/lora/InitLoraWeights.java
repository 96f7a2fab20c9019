package io.peft4j.lora;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * PEFT's {@code init_lora_weights}: {@code true} (A kaiming-uniform with a=√5, B zero: the adapter starts as the
 * identity), {@code false} (A and B both kaiming-uniform: a non-zero random adapter, for tests) or
 * {@code "gaussian"} (A ~ N(0, 1/r), B zero). Data-driven schemes (pissa, olora, loftq, eva, corda) are refused.
 *
 * <pre>{@code
 * LoraConfig c = LoraConfig.builder().optInitLoraWeights(InitLoraWeights.GAUSSIAN).build();
 * Object json = InitLoraWeights.DEFAULT.toJson();   // Boolean.TRUE
 * }</pre>
 *
 * @since 0.1.0
 */
public enum InitLoraWeights {
    DEFAULT(Boolean.TRUE), RANDOM(Boolean.FALSE), GAUSSIAN("gaussian");

    private final Object json;

    InitLoraWeights(Object json) {
        this.json = json;
    }

    @JsonValue
    public Object toJson() {
        return json;
    }

    @JsonCreator
    public static InitLoraWeights fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return DEFAULT;
        }
        if (node.isBoolean()) {
            return node.asBoolean() ? DEFAULT : RANDOM;
        }
        if (node.isTextual() && node.asText().equalsIgnoreCase("gaussian")) {
            return GAUSSIAN;
        }
        throw new IllegalArgumentException("init_lora_weights " + node + " is not supported by peft4j"
                + " (supported: true, false, \"gaussian\")");
    }
}
