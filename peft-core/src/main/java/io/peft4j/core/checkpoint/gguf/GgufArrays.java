package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Typed views of GGUF metadata arrays for {@link GgufFile}'s accessors; errors name the file and key. */
final class GgufArrays {
    private GgufArrays() {
    }

    @SuppressWarnings("unchecked")
    static Optional<List<String>> strings(Path file, String key, List<?> list) throws CheckpointFormatException {
        if (list == null) {
            return Optional.empty();
        }
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String)) {
                throw bad(file, key, i, "a STRING");
            }
        }
        return Optional.of((List<String>) list);
    }

    static Optional<int[]> ints(Path file, String key, List<?> list) throws CheckpointFormatException {
        if (list == null) {
            return Optional.empty();
        }
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object v = list.get(i);
            if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() != ((Number) v).intValue()) {
                throw bad(file, key, i, "an int");
            }
            out[i] = ((Number) v).intValue();
        }
        return Optional.of(out);
    }

    static Optional<float[]> floats(Path file, String key, List<?> list) throws CheckpointFormatException {
        if (list == null) {
            return Optional.empty();
        }
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object v = list.get(i);
            if (!(v instanceof Float || v instanceof Double)) {
                throw bad(file, key, i, "a FLOAT32/FLOAT64");
            }
            out[i] = ((Number) v).floatValue();
        }
        return Optional.of(out);
    }

    private static CheckpointFormatException bad(Path file, String key, int i, String expected) {
        return new CheckpointFormatException(file, "metadata '" + key + "'[" + i + "] is not " + expected);
    }
}
