package io.peft4j.quant;

import io.peft4j.core.Inference;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.peft4j.core.LinearLayer;
import io.peft4j.quant.internal.DjlDequantKernel;
import io.peft4j.quant.internal.JavaDequantKernel;
import io.peft4j.quant.internal.kernel.MatVec;
import io.peft4j.quant.internal.kernel.QuantMatrix;

/**
 * A frozen projection {@code y = x·Wᵀ + b} whose weight is stored quantized (NF4/FP4/INT8, QLoRA arXiv 2305.14314):
 * it keeps only the packed codes and the (possibly double-quantized) absmax, and dequantizes W to fp32 inside each
 * {@link #forward}, dropping it again before returning, so no full-precision copy lives between calls. Compute is
 * fp32 (fp16 matmul on CPU is far slower). A 4-bit forward on a few rows inside an {@code Inference} region
 * (decode) skips the fp32 weight altogether and multiplies straight from the codes with the SIMD matrix-vector
 * kernel (chosen by batch size at each call; {@code -Dpeft4j.decode.kernel}/{@code maxRows}, see
 * {@link GgufBlockLinearFactory}). One forward at a time per thread; the bias array is owned and closed.
 *
 * <pre>{@code
 * QuantizedTensor w = Quantizer.quantize("q_proj.weight", values, new long[] {out, in}, QuantConfig.nf4DoubleQuant());
 * try (QuantizedLinear layer = new QuantizedLinear(w, null)) {
 *     NDArray y = layer.forward(x);      // x [..., in] -> y [..., out]
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class QuantizedLinear implements LinearLayer {
    /** Which dequantization path {@link #forward} uses; both are bit-identical to {@link Quantizer#dequantize}. */
    public enum Kernel {
        /** Java loop into a reused per-thread direct buffer aliased by the weight array (the faster on CPU). */
        JAVA,
        /** libtorch ops: {@code [256,2]} table gathered by the packed bytes, times absmax. */
        DJL
    }

    private final QuantizedTensor weight; // codes [out*in/2] + absmax
    private final NDArray bias;           // [out] or null
    private final Kernel kernel;
    private final float[] biasValues;     // [out] for the decode path, or null
    private volatile QuantMatrix.FourBit matrix; // the decode path's view of the codes, made on first use

    /** Takes ownership of {@code bias} {@code [out]} (nullable); uses {@link Kernel#JAVA}. */
    public QuantizedLinear(QuantizedTensor weight, NDArray bias) {
        this(weight, bias, Kernel.JAVA);
    }

    public QuantizedLinear(QuantizedTensor weight, NDArray bias, Kernel kernel) {
        if (weight.shape().length != 2) {
            throw new IllegalArgumentException("linear weight '" + weight.name() + "' must be [out, in], got "
                    + new Shape(weight.shape()));
        }
        if (bias != null && bias.size() != weight.shape()[0]) {
            throw new IllegalArgumentException("bias " + bias.getShape() + " does not fit weight '" + weight.name()
                    + "' " + new Shape(weight.shape()));
        }
        this.weight = weight;
        this.bias = bias;
        this.kernel = kernel;
        this.biasValues = bias == null ? null : bias.toFloatArray();
    }

    @Override
    public NDArray forward(NDArray x) {
        if (weight.config().type().bits() == 4 && MatVec.takes(x, inFeatures())) {
            return MatVec.forward(decodeMatrix(), x, biasValues);
        }
        NDManager m = x.getManager();
        NDArray w = dequantized(m);
        try {
            return Linear.linear(x, w, bias).singletonOrThrow();
        } finally {
            w.close();
        }
    }

    /** Whether the weight is 4-bit and the matrix-vector kernel is on (8-bit layers have no row kernel). */
    @Override
    public boolean hasRowKernel() {
        return weight.config().type().bits() == 4 && MatVec.enabled();
    }

    /** Multiplies straight from the 4-bit codes with the matrix-vector kernel. */
    @Override
    public boolean forwardRows(float[] x, int rows, float[] y) {
        if (!hasRowKernel()) {
            return false;
        }
        MatVec.rows(decodeMatrix(), x, rows, y, biasValues);
        return true;
    }

    /**
     * The codes with their absmax decoded to fp32 once (4 bytes per block of 64 more than the double-quantized
     * scales: counted in {@link #storedBytes} once made), for the decode path.
     */
    private QuantMatrix.FourBit decodeMatrix() {
        QuantMatrix.FourBit m = matrix;
        if (m == null) {
            m = new QuantMatrix.FourBit((int) weight.shape()[0], (int) weight.shape()[1],
                    weight.config().type().codebook(), weight.config().blockSize(), weight.data(),
                    weight.absmax().decode());
            matrix = m;
        }
        return m;
    }

    private NDArray dequantized(NDManager m) {
        float[] absmax = weight.absmax().decode();
        if (kernel == Kernel.DJL) {
            try (NDManager tmp = m.newSubManager()) {
                NDArray codes = DjlDequantKernel.packedCodes(weight, tmp);
                NDArray table = DjlDequantKernel.lookupTable(weight.config().type(), tmp);
                NDArray w = DjlDequantKernel.dequantize(weight, codes, table, tmp.create(absmax));
                w.attach(m);
                return w;
            }
        }
        NDArray shared = JavaDequantKernel.dequantizeShared(weight, absmax, m);
        if (Inference.active()) {
            return shared;
        }
        // autograd may keep W for the backward pass of x: give it its own copy, not the reused scratch
        NDArray own = shared.duplicate();
        shared.close();
        return own;
    }

    @Override
    public long inFeatures() {
        return weight.shape()[1];
    }

    @Override
    public long outFeatures() {
        return weight.shape()[0];
    }

    /** The fp32 weight {@code [out, in]} as a new array on {@code manager} (the reference dequantization). */
    @Override
    public NDArray denseWeight(NDManager manager) {
        return manager.create(Quantizer.dequantize(weight), new Shape(weight.shape()));
    }

    @Override
    public NDArray bias() {
        return bias;
    }

    /** The stored quantized weight (codes and scales). */
    public QuantizedTensor quantizedWeight() {
        return weight;
    }

    public Kernel kernel() {
        return kernel;
    }

    /** Packed codes + scales (+ fp32 bias): what this layer keeps resident. */
    @Override
    public long storedBytes() {
        QuantMatrix.FourBit m = matrix;
        return weight.storedBytes() + (bias == null ? 0 : 4L * bias.size())
                + (m == null ? 0 : 4L * m.absmax().length);
    }

    @Override
    public void close() {
        if (bias != null) {
            bias.close();
        }
    }
}
