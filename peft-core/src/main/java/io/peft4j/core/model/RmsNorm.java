package io.peft4j.core.model;

import ai.djl.ndarray.NDArray;

/** RMSNorm (arXiv 1910.07467) as transformers' {@code LlamaRMSNorm}: {@code x · (mean(x²) + eps)^-½ · w} in fp32. */
final class RmsNorm {
    private static final int[] LAST_AXIS = {-1};

    private final NDArray weight; // [hidden]
    private final float eps;

    RmsNorm(NDArray weight, double eps) {
        this.weight = weight;
        this.eps = (float) eps;
    }

    /** {@code x [..., hidden]} to the same shape; results belong to {@code x}'s manager. */
    NDArray forward(NDArray x) {
        NDArray inverseRms = x.square().mean(LAST_AXIS, true).add(eps).pow(-0.5f);
        return x.mul(inverseRms).mul(weight);
    }

    NDArray weight() {
        return weight;
    }
}
