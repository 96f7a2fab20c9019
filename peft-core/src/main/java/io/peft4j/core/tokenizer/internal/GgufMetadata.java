package io.peft4j.core.tokenizer.internal;

import io.peft4j.core.PeftException;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Typed, checked reads of GGUF metadata values, tolerant of how a reader represents them: strings, boxed
 * numbers, booleans, {@link List}s, object arrays or primitive arrays. Every failure names the source and key.
 */
public final class GgufMetadata {
    private final Map<String, Object> values;
    private final String source;

    public GgufMetadata(Map<String, Object> values, String source) {
        if (values == null) {
            throw new IllegalArgumentException("metadata must not be null");
        }
        this.values = values;
        this.source = source == null ? "GGUF metadata" : source;
    }

    public boolean has(String key) {
        return values.get(key) != null;
    }

    public PeftException error(String key, String detail) {
        return new PeftException(source + ": metadata '" + key + "': " + detail);
    }

    public String string(String key, String fallback) throws PeftException {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof CharSequence)) {
            throw error(key, "expected a string, found " + v.getClass().getSimpleName());
        }
        return v.toString();
    }

    public boolean bool(String key, boolean fallback) throws PeftException {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.longValue() != 0;
        }
        throw error(key, "expected a boolean, found " + v.getClass().getSimpleName());
    }

    /** The token string an id field points at, or null when the field is absent. */
    public String token(String key, List<String> tokens) throws PeftException {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n)) {
            throw error(key, "expected a token id, found " + v.getClass().getSimpleName());
        }
        long id = n.longValue();
        if (id < 0 || id >= tokens.size()) {
            throw error(key, "token id " + id + " is outside the vocabulary of " + tokens.size() + " tokens");
        }
        return tokens.get((int) id);
    }

    public List<String> strings(String key) throws PeftException {
        List<Object> list = list(key);
        if (list == null) {
            throw error(key, "missing");
        }
        List<String> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof CharSequence s)) {
                throw error(key, "entry " + i + " is not a string");
            }
            out.add(s.toString());
        }
        return out;
    }

    /** An int array of exactly {@code size} entries, or null when the key is absent. */
    public int[] ints(String key, int size) throws PeftException {
        List<Object> list = sized(key, size);
        if (list == null) {
            return null;
        }
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            out[i] = number(key, list, i).intValue();
        }
        return out;
    }

    /** A float array of exactly {@code size} entries; missing is an error. */
    public float[] floats(String key, int size) throws PeftException {
        List<Object> list = sized(key, size);
        if (list == null) {
            throw error(key, "missing: needed to derive merges (the file has no tokenizer.ggml.merges)");
        }
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = number(key, list, i).floatValue();
        }
        return out;
    }

    private List<Object> sized(String key, int size) throws PeftException {
        List<Object> list = list(key);
        if (list != null && list.size() != size) {
            throw error(key, "has " + list.size() + " entries but there are " + size + " tokens");
        }
        return list;
    }

    private Number number(String key, List<Object> list, int i) throws PeftException {
        if (!(list.get(i) instanceof Number n)) {
            throw error(key, "entry " + i + " is not a number");
        }
        return n;
    }

    private List<Object> list(String key) throws PeftException {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v.getClass().isArray()) {
            int n = Array.getLength(v);
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(Array.get(v, i));
            }
            return out;
        }
        throw error(key, "expected an array, found " + v.getClass().getSimpleName());
    }
}
