package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.TensorSource;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.gguf.GgufNames;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tensors of a GGUF file under Hugging Face names ({@code blk.0.attn_q.weight} becomes
 * {@code model.layers.0.self_attn.q_proj.weight}; tensors without a Hugging Face counterpart keep their GGUF
 * name), dequantized to fp32 on request, with LLaMA q/k projection rows un-permuted so the values equal those of
 * the original Hugging Face checkpoint. Shapes are in PyTorch order (ggml {@code ne} reversed).
 *
 * <p>Owns its {@link GgufFile}; thread-safe for reads. Nothing is read until a tensor is asked for.
 *
 * <pre>{@code
 * try (GgufTensorSource weights = GgufTensorSource.open(Path.of("SmolLM2-135M-Instruct.Q4_1.gguf"))) {
 *     float[] q = weights.readFloats("model.layers.0.self_attn.q_proj.weight");   // [576, 576] row-major
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufTensorSource implements TensorSource {
    /** GGUF architectures whose converter permutes q/k rows (llama.cpp's LlamaModel.permute). */
    private static final Set<String> PERMUTED_ARCHS = Set.of("llama", "mistral");

    private final GgufFile file;
    private final Map<String, GgufTensorInfo> byHfName = new LinkedHashMap<>();
    private final boolean permuted;
    private final int nHead;
    private final int nHeadKv;

    /** Wraps an open file and takes ownership of it (closing this source closes the file). */
    public GgufTensorSource(GgufFile file) throws CheckpointFormatException {
        this.file = file;
        for (GgufTensorInfo t : file.tensors()) {
            String hf = GgufNames.toHf(t.name()).orElse(t.name());
            if (byHfName.putIfAbsent(hf, t) != null) {
                throw new CheckpointFormatException(file.path(), t.name(), "maps to Hugging Face name '" + hf
                        + "', which another tensor already has");
            }
        }
        String arch = file.getString("general.architecture").orElse("");
        this.permuted = PERMUTED_ARCHS.contains(arch);
        this.nHead = file.getInt(arch + ".attention.head_count", 0);
        this.nHeadKv = file.getInt(arch + ".attention.head_count_kv", nHead);
    }

    /** Opens {@code path}; the caller closes the result. */
    public static GgufTensorSource open(Path path) throws CheckpointFormatException {
        GgufFile f = GgufFile.open(path);
        try {
            return new GgufTensorSource(f);
        } catch (CheckpointFormatException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    @Override
    public long storedBytes(String name) {
        return info(name).byteSize();
    }

    /** The underlying file (metadata, llama.cpp names, raw data). */
    public GgufFile file() {
        return file;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(byHfName.keySet()));
    }

    @Override
    public boolean contains(String name) {
        return byHfName.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return info(name).shape();
    }

    @Override
    public String dtype(String name) {
        return info(name).type().name();
    }

    /** The GGUF tensor info behind a Hugging Face name. */
    public GgufTensorInfo info(String name) {
        GgufTensorInfo t = byHfName.get(name);
        if (t == null) {
            throw new IllegalArgumentException(file.path() + ": no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public float[] readFloats(String name) throws CheckpointFormatException {
        GgufTensorInfo t = info(name);
        if (t.elementCount() > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file.path(), t.name(), t.elementCount() + " elements do not fit in a "
                    + "Java float[]");
        }
        float[] w = new float[(int) t.elementCount()];
        readFloats(name, w);
        return w;
    }

    /** Decodes into {@code dst} and un-permutes q/k rows in place: no array of the tensor's size is allocated. */
    @Override
    public void readFloats(String name, float[] dst) throws CheckpointFormatException {
        GgufTensorInfo t = info(name);
        file.dequantizeInto(t, FloatBuffer.wrap(dst));
        String proj = permuted ? GgufNames.permutedProjection(t.name()).orElse(null) : null;
        if (proj == null) {
            return;
        }
        int heads = "q".equals(proj) ? nHead : nHeadKv;
        int cols = t.ne().length == 1 ? 1 : Math.toIntExact(t.ne()[0]);
        try {
            GgufNames.unpermuteRows(dst, (int) t.elementCount(), heads, cols);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(file.path(), t.name(), "cannot undo the q/k row permutation: "
                    + e.getMessage());
        }
    }

    /**
     * Decodes straight into a direct buffer that the returned array aliases (no Java {@code float[]} on the way),
     * except for the permuted q/k projections, which go through {@link #readFloats} to be un-permuted.
     */
    @Override
    public NDArray load(String name, NDManager manager) throws CheckpointFormatException {
        GgufTensorInfo t = info(name);
        if (t.elementCount() > Integer.MAX_VALUE / Float.BYTES) {
            throw new CheckpointFormatException(file.path(), t.name(), t.elementCount()
                    + " fp32 values exceed the 2 GiB a direct buffer can hold");
        }
        ByteBuffer bb = ByteBuffer.allocateDirect((int) t.elementCount() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (permuted && GgufNames.permutedProjection(t.name()).isPresent()) {
            bb.asFloatBuffer().put(readFloats(name));
        } else {
            file.dequantizeInto(t, bb.asFloatBuffer());
        }
        NDArray arr = manager.create(bb, new Shape(shape(name)), DataType.FLOAT32);
        arr.setName(name);
        return arr;
    }

    /** Every key/value rendered as a string; arrays longer than 16 elements are summarized. */
    @Override
    public Map<String, String> metadata() {
        Map<String, String> out = new LinkedHashMap<>();
        file.metadata().forEach((k, v) -> out.put(k, v instanceof List<?> l && l.size() > 16
                ? file.valueType(k).orElse("ARRAY") + "[" + l.size() + "]" : String.valueOf(v)));
        return out;
    }

    @Override
    public void close() {
        file.close();
    }

    @Override
    public String toString() {
        return "GgufTensorSource[" + file.path() + ", " + byHfName.size() + " tensors]";
    }
}
