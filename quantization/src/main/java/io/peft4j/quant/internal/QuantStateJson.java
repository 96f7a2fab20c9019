package io.peft4j.quant.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peft4j.core.Json;
import io.peft4j.quant.Absmax;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON bitsandbytes packs into the {@code quant_state.bitsandbytes__*} U8 tensor
 * ({@code QuantState.as_dict(packed=True)} → {@code pack_dict_to_tensor}): {@code quant_type}, {@code blocksize},
 * {@code dtype}, {@code shape}, and with double quantization {@code nested_blocksize}, {@code nested_dtype},
 * {@code nested_offset}. peft4j always writes {@code dtype: "float32"} (the weights it quantizes are fp32).
 */
public final class QuantStateJson {

    /**
     * The parsed state.
     *
     * @param quantType       {@code nf4}, {@code fp4} or {@code int8}
     * @param blockSize       elements per absmax block
     * @param dtype           the dtype the weight had before quantization ({@code float32}, {@code bfloat16}, ...)
     * @param shape           the logical shape
     * @param nested          whether the nested fields are present
     * @param nestedBlockSize nested block size (0 when not nested)
     * @param nestedOffset    the absmax mean added back (0 when not nested)
     */
    public record State(String quantType, int blockSize, String dtype, long[] shape, boolean nested,
                        int nestedBlockSize, float nestedOffset) {
    }

    private QuantStateJson() {
    }

    /** The UTF-8 JSON bytes for {@code q}. */
    public static byte[] encode(QuantizedTensor q) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("quant_type", q.config().type().bnbName());
        m.put("blocksize", q.config().blockSize());
        m.put("dtype", "float32");
        m.put("shape", q.shape());
        if (q.absmax() instanceof Absmax.Nested n) {
            m.put("nested_blocksize", n.nestedBlockSize());
            m.put("nested_dtype", "float32");
            m.put("nested_offset", (double) n.offset());
        }
        try {
            return Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m)
                    .getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses the state bytes.
     *
     * @throws IllegalArgumentException naming the missing or malformed field
     */
    public static State decode(byte[] bytes) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(new String(bytes, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("quant_state is not valid JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("quant_state must be a JSON object");
        }
        JsonNode shapeNode = require(n, "shape");
        if (!shapeNode.isArray() || shapeNode.isEmpty()) {
            throw new IllegalArgumentException("quant_state field 'shape' must be a non-empty array, got " + shapeNode);
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
        }
        boolean nested = n.has("nested_offset") || n.has("nested_blocksize");
        return new State(text(n, "quant_type"), integer(n, "blocksize"), text(n, "dtype"), shape, nested,
                nested ? integer(n, "nested_blocksize") : 0,
                nested ? (float) require(n, "nested_offset").asDouble() : 0f);
    }

    /** The type a state names; must agree with the type in its key. */
    public static QuantType type(State s, QuantType fromKey) {
        QuantType t = QuantType.parse(s.quantType());
        if (t != fromKey) {
            throw new IllegalArgumentException("quant_state says quant_type '" + s.quantType() + "' but its key says "
                    + fromKey.bnbName());
        }
        return t;
    }

    private static JsonNode require(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("quant_state lacks field '" + field + "' (has " + fieldNames(n) + ")");
        }
        return v;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = require(n, field);
        if (!v.isTextual()) {
            throw new IllegalArgumentException("quant_state field '" + field + "' must be a string, got " + v);
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String field) {
        JsonNode v = require(n, field);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("quant_state field '" + field + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
