package io.peft4j.core.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.llama.LlamaModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-memory fp32 {@link TensorSource} under Hugging Face names, for tests; counts {@link #readFloats} calls.
 *
 * <pre>{@code
 * MemoryTensorSource src = MemoryTensorSource.of(model, manager);   // every weight of a model
 * LlamaModel copy = LlamaModel.load(model.config(), src, manager);
 * }</pre>
 */
public final class MemoryTensorSource implements TensorSource {
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private int floatReads;

    public MemoryTensorSource put(String name, float[] v, long... shape) {
        values.put(name, v);
        shapes.put(name, shape);
        return this;
    }

    public MemoryTensorSource put(String name, NDArray a) {
        return put(name, a.toFloatArray(), a.getShape().getShape());
    }

    /** How many times {@link #readFloats} was called. */
    public int floatReads() {
        return floatReads;
    }

    /** Every weight of {@code model} (projections as dense weights and biases; tied lm_head left out). */
    public static MemoryTensorSource of(LlamaModel model, NDManager m) {
        MemoryTensorSource s = new MemoryTensorSource();
        model.otherWeights().forEach(s::put);
        model.linearLayers().forEach((path, layer) -> {
            if (path.equals("lm_head") && model.config().tieWordEmbeddings()) {
                return;
            }
            s.put(path + ".weight", layer.denseWeight(m));
            if (layer.bias() != null) {
                s.put(path + ".bias", layer.bias());
            }
        });
        return s;
    }

    @Override
    public Path path() {
        return Path.of("memory.safetensors");
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(values.keySet());
    }

    @Override
    public boolean contains(String name) {
        return values.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return shapes.get(name).clone();
    }

    @Override
    public String dtype(String name) {
        return "F32";
    }

    @Override
    public long storedBytes(String name) {
        return 4L * values.get(name).length;
    }

    @Override
    public float[] readFloats(String name) {
        floatReads++;
        return values.get(name).clone();
    }

    @Override
    public NDArray load(String name, NDManager manager) {
        return manager.create(values.get(name), new Shape(shapes.get(name)));
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public void close() {
    }
}
