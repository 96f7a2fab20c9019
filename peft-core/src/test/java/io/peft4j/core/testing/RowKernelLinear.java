package io.peft4j.core.testing;

import io.peft4j.core.LinearLayer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A test projection with a row kernel: {@link #forwardRows} multiplies by a Java copy of the wrapped layer's dense
 * weight (and bias), an independent computation of what {@link #forward} gives through libtorch. With
 * {@code refuse} set it has a row kernel but declines every call (a state without one), so callers fall back.
 *
 * <pre>{@code
 * model.replaceLinear(path, new RowKernelLinear(model.linearLayers().get(path), false));
 * }</pre>
 */
public class RowKernelLinear extends ForwardingLinear {
    private final float[] weight;   // [out, in]
    private final float[] bias;     // [out] or null
    private final int in;
    private final int out;
    private final boolean refuse;
    private final AtomicLong rowCalls = new AtomicLong();

    public RowKernelLinear(LinearLayer inner, boolean refuse) {
        super(inner);
        this.in = Math.toIntExact(inner.inFeatures());
        this.out = Math.toIntExact(inner.outFeatures());
        try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
            this.weight = inner.denseWeight(m).toFloatArray();
        }
        this.bias = inner.bias() == null ? null : inner.bias().toFloatArray();
        this.refuse = refuse;
    }

    @Override
    public boolean hasRowKernel() {
        return true;
    }

    @Override
    public boolean forwardRows(float[] x, int rows, float[] y) {
        if (refuse) {
            return false;
        }
        rowCalls.incrementAndGet();
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) x[r * in + i] * weight[o * in + i];
                }
                y[r * out + o] = (float) sum;
            }
        }
        return true;
    }

    /** Calls that ran the row kernel. */
    public long rowCalls() {
        return rowCalls.get();
    }
}
