package io.peft4j.lora;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;

/**
 * PEFT's {@code bias}: which projection biases are trained with the adapter and saved in it. {@link #NONE} trains
 * none; {@link #LORA_ONLY} the biases of the projections that carry LoRA (saved as
 * {@code <path>.base_layer.bias}); {@link #ALL} every projection bias. Written in JSON as PEFT writes it.
 *
 * <pre>{@code
 * LoraConfig c = LoraConfig.builder().optBias(LoraBias.LORA_ONLY).build();
 * String json = LoraBias.LORA_ONLY.json();          // "lora_only"
 * LoraBias b = LoraBias.fromJson("all");            // ALL
 * }</pre>
 *
 * @since 0.1.0
 */
public enum LoraBias {
    NONE("none"), ALL("all"), LORA_ONLY("lora_only");

    private final String json;

    LoraBias(String json) {
        this.json = json;
    }

    /** PEFT's string: {@code none}, {@code all} or {@code lora_only}. */
    @JsonValue
    public String json() {
        return json;
    }

    /** From PEFT's string; {@code null} means {@link #NONE}, anything else unknown is refused naming the value. */
    @JsonCreator
    public static LoraBias fromJson(String value) {
        if (value == null) {
            return NONE;
        }
        for (LoraBias b : values()) {
            if (b.json.equals(value)) {
                return b;
            }
        }
        throw new IllegalArgumentException("invalid LoRA config: bias = " + value + " (supported: "
                + String.join(", ", Arrays.stream(values()).map(LoraBias::json).toList()) + ")");
    }
}
