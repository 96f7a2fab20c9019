package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;

import java.util.function.Supplier;

/**
 * RMSNorm (arXiv 1910.07467) as transformers' {@code LlamaRMSNorm}: {@code x · (mean(x²) + eps)^-½ · w} in fp32.
 * eps and the exponent are 0-d arrays made once: DJL turns every Java scalar operand into a fresh native array,
 * which costs 5-10× the op itself on decode-sized inputs.
 *
 * @since 0.1.0
 */
public final class RmsNorm {
    private static final int[] LAST_AXIS = {-1};

    private final NDArray weight; // [hidden]
    private final NDArray eps;          // [] fp32
    private final float epsValue;
    private final NDArray minusHalf;    // [] fp32
    private volatile Supplier<NDArray> override; // weight to use instead when it returns non-null
    private volatile float[] weightValues;       // the frozen weight as read by forwardRows

    /** @param weight {@code [hidden]}, owned by the caller; eps as in the config ({@code rms_norm_eps}) */
    public RmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = weight.getManager().create((float) eps);
        this.epsValue = (float) eps;
        this.minusHalf = weight.getManager().create(-0.5f);
    }

    /** {@code x [..., hidden]} to the same shape; results belong to {@code x}'s manager. */
    public NDArray forward(NDArray x) {
        NDArray inverseRms = x.square().mean(LAST_AXIS, true).add(eps).pow(minusHalf);
        return x.mul(inverseRms).mul(WeightOverride.effective(weight, override));
    }

    /**
     * The same norm on Java arrays ({@code rows} rows of {@code hidden} values, into {@code out}), for the fused
     * decode path: the sum of squares in double, then the fp32 scaling as {@link #forward} does.
     */
    public void forwardRows(float[] x, int rows, float[] out) {
        float[] w = rowWeight();
        int hidden = w.length;
        float e = epsValue;
        for (int r = 0; r < rows; r++) {
            int base = r * hidden;
            double sum = 0;
            for (int i = 0; i < hidden; i++) {
                float v = x[base + i];
                sum += v * v;
            }
            float inverseRms = (float) (1.0 / Math.sqrt((float) (sum / hidden) + e));
            for (int i = 0; i < hidden; i++) {
                out[base + i] = x[base + i] * inverseRms * w[i];
            }
        }
    }

    /** The weight in effect as a Java array: the override's current values, else the frozen weight's (read once). */
    private float[] rowWeight() {
        NDArray o = override == null ? null : override.get();
        if (o != null) {
            return o.toFloatArray();
        }
        float[] w = weightValues;
        if (w == null) {
            w = weight.toFloatArray();
            weightValues = w;
        }
        return w;
    }

    /** The override set by {@link #override(Supplier)}, or {@code null}. */
    public Supplier<NDArray> override() {
        return override;
    }

    /** Reads {@code weight.get()} instead of the stored weight whenever it returns non-null. */
    public void override(Supplier<NDArray> weight) {
        this.override = weight;
    }

    /** The stored weight {@code [hidden]}. */
    public NDArray weight() {
        return weight;
    }
}
