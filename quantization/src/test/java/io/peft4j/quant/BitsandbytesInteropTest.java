package io.peft4j.quant;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * peft4j's codec against bitsandbytes 0.50 itself (CPU backend): the expected values were produced by
 * {@code scripts/interop/bnb_reference.py} with the pinned venv and committed. Every result must match bit for bit:
 * packed codes, absmax, nested codes, nested absmax, offset, and the dequantized values bitsandbytes computed.
 */
class BitsandbytesInteropTest {
    private static JsonNode ref;
    private static final Map<String, float[]> INPUTS = new HashMap<>();
    private static final Map<String, long[]> SHAPES = new HashMap<>();

    @BeforeAll
    static void load() throws IOException {
        ref = BnbReference.load();
        for (JsonNode c : ref.get("cases")) {
            String name = c.get("name").asText();
            INPUTS.put(name, BnbReference.input(c));
            SHAPES.put(name, BnbReference.shape(c));
        }
    }

    @Test
    void inputs_rebuiltFromRecipe_matchScriptHashes() {
        for (JsonNode c : ref.get("cases")) {
            String name = c.get("name").asText();
            assertEquals(c.get("input_sha256").asText(), BnbReference.sha256(INPUTS.get(name)), "input " + name);
        }
    }

    @Test
    void codebooks_equalBitsandbytesTables() {
        assertArrayEquals(BnbReference.floats(ref.get("nf4_code")), QuantType.NF4.codebook());
        assertArrayEquals(BnbReference.floats(ref.get("fp4_code")), QuantType.FP4.codebook());
        assertArrayEquals(BnbReference.floats(ref.get("dynamic_map")), QuantType.INT8.codebook());
    }

    @Test
    void quantize_everyCase_bitIdenticalToBitsandbytes() {
        int checked = 0;
        for (JsonNode r : ref.get("results")) {
            String id = r.get("case").asText() + "/" + r.get("type").asText() + "/dq=" + r.get("double_quant").asBoolean()
                    + "/bs=" + r.get("blocksize").asInt();
            QuantConfig cfg = new QuantConfig(QuantType.parse(r.get("type").asText()), r.get("blocksize").asInt(),
                    r.get("double_quant").asBoolean());
            String caseName = r.get("case").asText();
            QuantizedTensor q = Quantizer.quantize(id, INPUTS.get(caseName), SHAPES.get(caseName), cfg);
            assertArrayEquals(BnbReference.bytes(r.get("packed")), q.data(), id + " packed codes");
            assertStats(id, r, q.absmax());
            float[] deq = Quantizer.dequantize(q);
            if (r.has("dequant")) {
                assertArrayEquals(BnbReference.floats(r.get("dequant")), deq, id + " dequantized");
            }
            assertEquals(r.get("dequant_sha256").asText(), BnbReference.sha256(deq), id + " dequantized (sha256)");
            checked++;
        }
        assertEquals(26, checked);
    }

    private static void assertStats(String id, JsonNode r, Absmax absmax) {
        if (!r.get("double_quant").asBoolean()) {
            assertArrayEquals(BnbReference.floats(r.get("absmax")), assertInstanceOf(Absmax.Plain.class, absmax).values(),
                    id + " absmax");
            return;
        }
        Absmax.Nested n = assertInstanceOf(Absmax.Nested.class, absmax);
        assertEquals(r.get("offset_bits").asInt(), Float.floatToRawIntBits(n.offset()),
                id + " offset " + r.get("offset").asDouble() + " vs " + n.offset());
        assertArrayEquals(BnbReference.floats(r.get("nested_absmax")), n.nestedAbsmax(), id + " nested absmax");
        assertArrayEquals(BnbReference.bytes(r.get("absmax_codes")), n.codes(), id + " absmax codes");
        assertArrayEquals(BnbReference.floats(r.get("nested_quant_map")), n.nestedCode(), id + " nested quant map");
        assertEquals(r.get("nested_blocksize").asInt(), n.nestedBlockSize(), id + " nested block size");
    }
}
