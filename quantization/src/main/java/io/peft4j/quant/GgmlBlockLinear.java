package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.peft4j.core.Inference;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.quant.internal.JavaDequantKernel;
import io.peft4j.quant.internal.kernel.MatVec;
import io.peft4j.quant.internal.kernel.QuantMatrix;

import java.nio.FloatBuffer;

/**
 * A frozen projection {@code y = x·Wᵀ + b} whose weight stays in the GGUF blocks it was stored in (Q4_0, Q4_1 or
 * Q8_0, repacked as codes plus fp32 scales: 0.625, 0.75 or 1.125 bytes per parameter), never held in fp32 between
 * calls. A forward on a few rows
 * inside an {@link Inference} region (decode) multiplies straight from the blocks with the SIMD matrix-vector kernel
 * ({@code -Dpeft4j.decode.*}, see {@link GgufBlockLinearFactory}); any other forward (prefill, training) decodes W
 * to ggml's values (SIMD, from the block scales) into a reused buffer and multiplies in libtorch, as
 * {@link QuantizedLinear} does. The bias, if any, is fp32 and owned. One forward at a time per thread.
 *
 * <pre>{@code
 * GgmlBlockLinear q = new GgmlBlockLinear("q_proj.weight", GgmlType.Q4_1, new long[] {576, 576}, blocks, null);
 * try (Inference.Scope s = Inference.enter()) {
 *     NDArray y = q.forward(x);   // x [1, 1, 576] -> [1, 1, 576] from the 4-bit blocks
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgmlBlockLinear implements LinearLayer {
    private final String name;
    private final QuantMatrix.Ggml weight; // [out, in] as rows of blocks
    private final NDArray bias;            // [out] or null
    private final float[] biasValues;      // the bias for the decode path, or null

    /**
     * @param blocks row-major blocks of {@code type} for {@code shape [out, in]} ({@code in} a multiple of 32);
     *               kept, not copied
     * @param bias   {@code [out]} or null; ownership passes to the layer
     */
    public GgmlBlockLinear(String name, GgmlType type, long[] shape, byte[] blocks, NDArray bias) {
        if (shape.length != 2 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("linear weight '" + name + "' must be [out, in], got " + new Shape(shape));
        }
        this.weight = new QuantMatrix.Ggml(type, (int) shape[0], (int) shape[1], blocks);
        if (bias != null && bias.size() != shape[0]) {
            throw new IllegalArgumentException("bias " + bias.getShape() + " does not fit weight '" + name + "' "
                    + new Shape(shape));
        }
        this.name = name;
        this.bias = bias;
        this.biasValues = bias == null ? null : bias.toFloatArray();
    }

    @Override
    public NDArray forward(NDArray x) {
        if (MatVec.takes(x, weight.cols())) {
            return MatVec.forward(weight, x, biasValues);
        }
        NDArray w = JavaDequantKernel.dequantizeShared(weight, x.getManager());
        if (!Inference.active()) {
            // autograd may keep W for the backward pass of x: give it its own copy, not the reused scratch
            NDArray own = w.duplicate();
            w.close();
            w = own;
        }
        try {
            return Linear.linear(x, w, bias).singletonOrThrow();
        } finally {
            w.close();
        }
    }

    /** Whether the matrix-vector kernel is on ({@code -Dpeft4j.decode.kernel}, not {@code off}). */
    @Override
    public boolean hasRowKernel() {
        return MatVec.enabled();
    }

    /** Multiplies straight from the blocks with the matrix-vector kernel. */
    @Override
    public boolean forwardRows(float[] x, int rows, float[] y) {
        if (!MatVec.enabled()) {
            return false;
        }
        MatVec.rows(weight, x, rows, y, biasValues);
        return true;
    }

    @Override
    public long inFeatures() {
        return weight.cols();
    }

    @Override
    public long outFeatures() {
        return weight.rows();
    }

    /** The fp32 weight {@code [out, in]}, decoded as ggml's {@code dequantize_row_*} does, on {@code manager}. */
    @Override
    public NDArray denseWeight(NDManager manager) {
        float[] w = new float[weight.rows() * weight.cols()];
        weight.decodeAll(FloatBuffer.wrap(w));
        return manager.create(w, new Shape(shape()));
    }

    @Override
    public NDArray bias() {
        return bias;
    }

    /** The block type the weight is stored in. */
    public GgmlType type() {
        return weight.type();
    }

    /** The weight's name, for messages. */
    public String name() {
        return name;
    }

    /** The blocks, their fp32 scales for the decode kernel (+ fp32 bias): what this layer keeps resident. */
    @Override
    public long storedBytes() {
        return weight.bytes() + (bias == null ? 0 : 4L * bias.size());
    }

    private long[] shape() {
        return new long[] {weight.rows(), weight.cols()};
    }

    @Override
    public void close() {
        if (bias != null) {
            bias.close();
        }
    }

    @Override
    public String toString() {
        return "GgmlBlockLinear[" + name + " " + new Shape(shape()) + " " + weight.type() + "]";
    }
}
