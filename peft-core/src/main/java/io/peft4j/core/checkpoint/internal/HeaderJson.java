package io.peft4j.core.checkpoint.internal;

import io.peft4j.core.checkpoint.SafetensorsWriter;
import com.fasterxml.jackson.core.JsonGenerator;
import io.peft4j.core.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Encodes a safetensors header: compact JSON, {@code __metadata__} first (keys sorted), space-padded to 8 bytes. */
public final class HeaderJson {
    private HeaderJson() {
    }

    public static byte[] encode(List<SafetensorsWriter.Entry> ordered, Map<String, String> metadata) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> m : new TreeMap<>(metadata).entrySet()) {
                    if (m.getValue() == null) {
                        throw new IllegalArgumentException("metadata '" + m.getKey() + "' has a null value");
                    }
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (SafetensorsWriter.Entry e : ordered) {
                long end = Math.addExact(offset, e.byteLength());
                g.writeObjectFieldStart(e.name());
                g.writeStringField("dtype", e.dtype());
                g.writeArrayFieldStart("shape");
                for (long d : e.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        int pad = (8 - out.size() % 8) % 8;
        for (int i = 0; i < pad; i++) {
            out.write(' ');
        }
        return out.toByteArray();
    }
}
