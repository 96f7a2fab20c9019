package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.quant.internal.DjlDequantKernel;
import io.peft4j.quant.internal.JavaDequantKernel;

/**
 * The two dequantization kernels behind {@link QuantizedLinear.Kernel}, exposed for measuring them (the bench
 * module's dequantization benches) and for callers that want the fp32 values of a {@link QuantizedTensor} in bulk.
 * Both are bit-identical to {@link Quantizer#dequantize}. The Java kernel's shared-buffer result is valid only until
 * the next call on the same thread; the DJL kernel's result is owned by {@link DjlInputs#codes()}' manager.
 *
 * <pre>{@code
 * float[] out = new float[q.numel()];
 * DequantKernels.javaInto(q, q.absmax().decode(), out);
 * try (NDArray w = DequantKernels.javaShared(q, q.absmax().decode(), manager)) { ... }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class DequantKernels {
    private DequantKernels() {
    }

    /** The Java loop: fills {@code out [numel]} given the decoded absmax {@code [blocks]}. */
    public static void javaInto(QuantizedTensor q, float[] absmax, float[] out) {
        JavaDequantKernel.dequantize(q, absmax, out);
    }

    /**
     * The Java loop into this thread's reused direct buffer, aliased zero-copy by the returned {@code [out, in]}
     * array on {@code manager} (what {@link QuantizedLinear#forward} does in inference): use it at once and close it.
     */
    public static NDArray javaShared(QuantizedTensor q, float[] absmax, NDManager manager) {
        return JavaDequantKernel.dequantizeShared(q, absmax, manager);
    }

    /** Drops this thread's scratch buffer of {@link #javaShared} (re-created by the next call). */
    public static void releaseScratch() {
        JavaDequantKernel.releaseScratch();
    }

    /** The packed codes and lookup table the DJL kernel gathers from, created once on {@code manager}. */
    public static DjlInputs djlInputs(QuantizedTensor q, NDManager manager) {
        return new DjlInputs(DjlDequantKernel.packedCodes(q, manager),
                DjlDequantKernel.lookupTable(q.config().type(), manager));
    }

    /** The libtorch-ops kernel: a fresh fp32 {@code [shape]} array; {@code absmax} is fp32 {@code [blocks]}. */
    public static NDArray djl(QuantizedTensor q, DjlInputs inputs, NDArray absmax) {
        return DjlDequantKernel.dequantize(q, inputs.codes(), inputs.table(), absmax);
    }

    /**
     * Inputs of {@link #djl}: {@code codes} uint8 {@code [bytes]}, {@code table} {@code [256, 2]} (4-bit) or
     * {@code [256]} (8-bit).
     *
     * @since 0.1.0
     */
    public record DjlInputs(NDArray codes, NDArray table) {
    }
}
