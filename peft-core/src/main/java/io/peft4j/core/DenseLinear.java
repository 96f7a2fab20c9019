package io.peft4j.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;

/**
 * A full-precision fp32 projection {@code y = x·Wᵀ + b}. Frozen: it reports no trainable parameters.
 * Owns its arrays: closing it frees them.
 *
 * <pre>{@code
 * LinearLayer layer = new DenseLinear(manager.randomNormal(new Shape(out, in)), null);
 * NDArray y = layer.forward(x);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class DenseLinear implements LinearLayer {
    private final NDArray weight; // [out, in]
    private final NDArray bias;   // [out] or null

    /** Takes ownership of {@code weight} {@code [out, in]} and {@code bias} {@code [out]} (nullable). */
    public DenseLinear(NDArray weight, NDArray bias) {
        if (weight.getShape().dimension() != 2) {
            throw new IllegalArgumentException("linear weight must be [out, in], got " + weight.getShape());
        }
        if (bias != null && bias.getShape().size() != weight.getShape().get(0)) {
            throw new IllegalArgumentException("bias " + bias.getShape() + " does not fit weight " + weight.getShape());
        }
        this.weight = weight;
        this.bias = bias;
    }

    @Override
    public NDArray forward(NDArray x) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    @Override
    public long inFeatures() {
        return weight.getShape().get(1);
    }

    @Override
    public long outFeatures() {
        return weight.getShape().get(0);
    }

    /** The stored weight itself {@code [out, in]} (not a copy); callers must not close it. */
    public NDArray weight() {
        return weight;
    }

    @Override
    public NDArray denseWeight(NDManager manager) {
        return weight.duplicate().toDevice(manager.getDevice(), false);
    }

    /** {@code g·W} with the stored weight (no copy). */
    @Override
    public NDArray frozenInputGradient(NDArray g) {
        return g.matMul(weight);
    }

    /** True when {@code weight} is this layer's weight array itself (a tied lm_head built on the embedding). */
    @Override
    public boolean tiedTo(NDArray weight) {
        return this.weight == weight;
    }

    @Override
    public NDArray bias() {
        return bias;
    }

    @Override
    public long storedBytes() {
        return 4L * (weight.size() + (bias == null ? 0 : bias.size()));
    }

    @Override
    public void close() {
        weight.close();
        if (bias != null) {
            bias.close();
        }
    }
}
