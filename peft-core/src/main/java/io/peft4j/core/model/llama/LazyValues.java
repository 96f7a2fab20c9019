package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * An unmodifiable map whose values are read from suppliers when asked for: {@code CausalLM.otherWeights()} lists
 * the embedding by name without building a quantized embedding's fp32 table until a caller reads that entry.
 */
final class LazyValues extends AbstractMap<String, NDArray> {
    private final Map<String, Supplier<NDArray>> values;

    LazyValues(LinkedHashMap<String, Supplier<NDArray>> values) {
        this.values = values;
    }

    @Override
    public NDArray get(Object key) {
        Supplier<NDArray> s = values.get(key);
        return s == null ? null : s.get();
    }

    @Override
    public boolean containsKey(Object key) {
        return values.containsKey(key);
    }

    @Override
    public Set<String> keySet() {
        return Collections.unmodifiableSet(values.keySet());
    }

    @Override
    public Set<Entry<String, NDArray>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, NDArray>> iterator() {
                Iterator<Map.Entry<String, Supplier<NDArray>>> it = values.entrySet().iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<String, NDArray> next() {
                        Map.Entry<String, Supplier<NDArray>> e = it.next();
                        return new SimpleImmutableEntry<>(e.getKey(), e.getValue().get());
                    }
                };
            }

            @Override
            public int size() {
                return values.size();
            }
        };
    }
}
