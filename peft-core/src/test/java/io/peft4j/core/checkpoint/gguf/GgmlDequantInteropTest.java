package io.peft4j.core.checkpoint.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.checkpoint.gguf.GgmlDequantizer;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Bit-exact agreement with gguf-py's {@code gguf.quants.dequantize} on deterministic random blocks of every
 * supported type ({@code scripts/interop/gguf_dequant_reference.py} wrote the expected float32 bit patterns).
 */
class GgmlDequantInteropTest {

    @Test
    void everySupportedType_matchesGgufPy_bitExact() throws Exception {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/interop/gguf_dequant_reference.json")) {
            assertNotNull(in, "interop/gguf_dequant_reference.json missing from test resources");
            root = Json.MAPPER.readTree(in);
        }
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        for (JsonNode c : root.get("cases")) {
            GgmlType type = GgmlType.valueOf(c.get("type").asText());
            int n = c.get("elements").asInt();
            byte[] bytes = HexFormat.of().parseHex(c.get("bytes_hex").asText());
            ByteBuffer expected = ByteBuffer.wrap(HexFormat.of().parseHex(c.get("float_bits_hex").asText()));
            float[] actual = new float[n];
            GgmlDequantizer.dequantize(type, ByteBuffer.wrap(bytes), n, actual, 0);
            for (int i = 0; i < n; i++) {
                int want = expected.getInt(4 * i);
                int at = i;
                assertEquals(want, Float.floatToRawIntBits(actual[i]), () -> type + " element " + at + ": expected "
                        + Float.intBitsToFloat(want));
            }
            seen.add(type);
        }
        for (GgmlType t : GgmlType.values()) {
            if (t.dequantizable()) {
                assertEquals(true, seen.contains(t), "no reference case for " + t);
            }
        }
    }
}
