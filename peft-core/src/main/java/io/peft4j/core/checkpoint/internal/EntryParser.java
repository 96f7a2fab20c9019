package io.peft4j.core.checkpoint.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;

import java.nio.file.Path;
import java.util.Arrays;

/** Validates one tensor entry of a safetensors header: {@code {"dtype", "shape", "data_offsets"}}. */
final class EntryParser {
    private EntryParser() {
    }

    static TensorEntry parse(Path file, String name, JsonNode value, long dataLength)
            throws CheckpointFormatException {
        if (value == null || !value.isObject()) {
            throw new CheckpointFormatException(file, name, "entry must be a JSON object with dtype, shape and "
                    + "data_offsets, got " + (value == null ? "nothing" : value.getNodeType()));
        }
        // spec: "dtype": one of the dtype strings
        JsonNode dt = required(file, name, value, "dtype");
        if (!dt.isTextual()) {
            throw new CheckpointFormatException(file, name, "dtype must be a string, got " + dt.getNodeType());
        }
        SafetensorsDtype dtype = SafetensorsDtype.parse(dt.textValue());
        if (dtype == null) {
            throw new CheckpointFormatException(file, name, "unknown or unsupported dtype '" + dt.textValue()
                    + "' (supported: " + SafetensorsDtype.supported() + ")");
        }
        // spec: "shape": list of non-negative integers (empty for a scalar)
        long[] shape = longs(file, name, required(file, name, value, "shape"), "shape", -1);
        // spec: "data_offsets": [BEGIN, END] relative to the start of the byte buffer
        long[] offsets = longs(file, name, required(file, name, value, "data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new CheckpointFormatException(file, name, "data_offsets end " + end + " is before begin " + begin);
        }
        if (end > dataLength) {
            throw new CheckpointFormatException(file, name, "data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataLength + " bytes)");
        }
        long bytes = byteSpan(file, name, shape, dtype);
        if (bytes != end - begin) {
            throw new CheckpointFormatException(file, name, "shape " + Arrays.toString(shape) + " x " + dtype
                    + " needs " + bytes + " bytes but data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin));
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    private static long byteSpan(Path file, String name, long[] shape, SafetensorsDtype dtype)
            throws CheckpointFormatException {
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return Math.multiplyExact(n, dtype.size());
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, name, "shape " + Arrays.toString(shape)
                    + " overflows a 64-bit byte count");
        }
    }

    private static String abbreviate(JsonNode node) {
        String s = node.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private static JsonNode required(Path file, String name, JsonNode entry, String field)
            throws CheckpointFormatException {
        JsonNode v = entry.get(field);
        if (v == null || v.isNull()) {
            throw new CheckpointFormatException(file, name, "missing field '" + field + "'");
        }
        return v;
    }

    /** A JSON array of non-negative 64-bit integers; {@code size} -1 for any length. */
    private static long[] longs(Path file, String name, JsonNode node, String field, int size)
            throws CheckpointFormatException {
        if (!node.isArray() || (size >= 0 && node.size() != size)) {
            throw new CheckpointFormatException(file, name, field + " must be an array of "
                    + (size >= 0 ? size + " " : "") + "non-negative integers, got " + abbreviate(node));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new CheckpointFormatException(file, name, field + "[" + i + "] must be a non-negative "
                        + "64-bit integer, got " + abbreviate(v));
            }
            out[i] = v.longValue();
        }
        return out;
    }
}
