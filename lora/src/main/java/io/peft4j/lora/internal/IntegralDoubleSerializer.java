package io.peft4j.lora.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

import java.io.IOException;

/** Writes {@code 16.0} as {@code 16} (PEFT's {@code lora_alpha} is an int in Python), other values as doubles. */
public final class IntegralDoubleSerializer extends StdSerializer<Double> {
    private static final long serialVersionUID = 1L;

    public IntegralDoubleSerializer() {
        super(Double.class);
    }

    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider provider) throws IOException {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            gen.writeNumber(value.longValue());
        } else {
            gen.writeNumber(value);
        }
    }
}
