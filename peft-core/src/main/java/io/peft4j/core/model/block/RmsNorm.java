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
    private final NDArray minusHalf;    // [] fp32
    private volatile Supplier<NDArray> override; // weight to use instead when it returns non-null

    /** @param weight {@code [hidden]}, owned by the caller; eps as in the config ({@code rms_norm_eps}) */
    public RmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = weight.getManager().create((float) eps);
        this.minusHalf = weight.getManager().create(-0.5f);
    }

    /** {@code x [..., hidden]} to the same shape; results belong to {@code x}'s manager. */
    public NDArray forward(NDArray x) {
        NDArray inverseRms = x.square().mean(LAST_AXIS, true).add(eps).pow(minusHalf);
        return x.mul(inverseRms).mul(WeightOverride.effective(weight, override));
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
