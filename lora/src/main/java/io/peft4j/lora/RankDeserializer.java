package io.peft4j.lora;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;

import java.io.IOException;

/**
 * Reads {@code r} of an {@code adapter_config.json}: an absent (or null) {@code r} is PEFT's default
 * {@value #PEFT_DEFAULT_R}, while a written value, 0 included, is kept as written so that {@link LoraConfig}
 * refuses a rank below 1 instead of silently replacing it.
 */
final class RankDeserializer extends StdDeserializer<Integer> {
    private static final long serialVersionUID = 1L;
    /** PEFT's {@code LoraConfig.r} default. */
    static final int PEFT_DEFAULT_R = 8;

    RankDeserializer() {
        super(Integer.class);
    }

    @Override
    public Integer deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        return _parseIntPrimitive(p, ctxt);
    }

    @Override
    public Object getAbsentValue(DeserializationContext ctxt) {
        return PEFT_DEFAULT_R;
    }

    @Override
    public Integer getNullValue(DeserializationContext ctxt) {
        return PEFT_DEFAULT_R;
    }
}
