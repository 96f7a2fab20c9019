package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Lazy, per-tensor access to the weights of a checkpoint (a safetensors file or folder, a GGUF file), under
 * Hugging Face tensor names. Nothing is read until a tensor is asked for, so callers can stream a model
 * tensor by tensor (quantize-on-load keeps peak memory at one fp32 tensor).
 *
 * <pre>{@code
 * try (TensorSource weights = SafetensorsReader.open(path)) {
 *     float[] w = weights.readFloats("model.layers.0.self_attn.q_proj.weight");
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public interface TensorSource extends AutoCloseable {

    /** The file (or folder) the tensors come from, for messages. */
    Path path();

    /** Tensor names in file order. */
    List<String> names();

    boolean contains(String name);

    /** Shape in PyTorch order (outermost first). */
    long[] shape(String name);

    /** Stored dtype as its format spells it: {@code F32}, {@code BF16}, {@code Q4_1}, ... */
    String dtype(String name);

    /** Bytes the tensor occupies in the file as stored (packed blocks for quantized types). */
    long storedBytes(String name);

    /** The tensor as fp32 values in row-major order (widened or dequantized as needed). */
    float[] readFloats(String name) throws CheckpointFormatException;

    /**
     * The tensor's fp32 values into {@code dst[0 .. numel)} ({@code dst} may be longer): lets a streaming loader reuse
     * one buffer for every tensor instead of leaving a fresh array per tensor for the garbage collector. The default
     * copies {@link #readFloats(String)}; sources that can decode in place override it.
     *
     * @throws IllegalArgumentException if {@code dst} is shorter than the tensor
     */
    default void readFloats(String name, float[] dst) throws CheckpointFormatException {
        float[] v = readFloats(name);
        if (v.length > dst.length) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + v.length + " values, the buffer holds "
                    + dst.length);
        }
        System.arraycopy(v, 0, dst, 0, v.length);
    }

    /**
     * The tensor on {@code manager}: floating and quantized types as FLOAT32, integer types as their
     * DJL-supported type. The array is owned by {@code manager}.
     */
    NDArray load(String name, NDManager manager) throws CheckpointFormatException;

    /**
     * {@link #load} for a model weight: refuses a tensor stored as an integer or boolean type (which no matmul or norm
     * takes) with a {@link CheckpointFormatException} naming the tensor and its stored dtype.
     */
    default NDArray loadWeight(String name, NDManager manager) throws CheckpointFormatException {
        NDArray array = load(name, manager);
        if (!array.getDataType().isFloating()) {
            array.close();
            throw new CheckpointFormatException(path(), name, "dtype " + dtype(name) + " cannot be a model weight "
                    + "(integer or boolean); weights must be F32, F16, BF16, F64 or a GGML quantized type");
        }
        return array;
    }

    /** String metadata ({@code __metadata__} for safetensors, key/values for GGUF rendered as strings). */
    Map<String, String> metadata();

    @Override
    void close();
}
