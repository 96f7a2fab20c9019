package io.peft4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.checkpoint.TensorSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An in-memory {@link TensorSource} of fp32 tensors under Hugging Face names, for tests. */
final class MapTensorSource implements TensorSource {
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    void put(String name, float[] v, long... shape) {
        values.put(name, v);
        shapes.put(name, shape);
    }

    void put(String name, NDArray array) {
        put(name, array.toFloatArray(), array.getShape().getShape());
    }

    /** Every weight of {@code model} (projections as dense weights and biases; tied lm_head left out). */
    static MapTensorSource of(LlamaModel model, NDManager m) {
        MapTensorSource s = new MapTensorSource();
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
        return Path.of("memory");
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
