package io.peft4j.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * The seam every projection of a model goes through ({@code y = x·Wᵀ + b}). Dense, quantized and LoRA
 * layers all implement it, so adapters and quantizers swap layers by module path without editing model code.
 *
 * <pre>{@code
 * LinearLayer q = model.linearLayers().get("model.layers.0.self_attn.q_proj");
 * NDArray y = q.forward(x);           // x [..., inFeatures] -> y [..., outFeatures]
 * }</pre>
 * Implementations are safe to call from one thread at a time per forward; results belong to the caller's
 * current {@code NDScope}.
 *
 * @since 0.1.0
 */
public interface LinearLayer extends AutoCloseable {

    /** {@code x [..., inFeatures]} to {@code [..., outFeatures]}. */
    NDArray forward(NDArray x);

    long inFeatures();

    long outFeatures();

    /**
     * The effective weight {@code [outFeatures, inFeatures]} in fp32 as a new array on {@code manager}
     * (dequantized for quantized layers, adapter deltas included when merged). Used by merge and export.
     */
    NDArray denseWeight(NDManager manager);

    /** The bias {@code [outFeatures]} or {@code null} when the layer has none. Never copied. */
    NDArray bias();

    /**
     * Whether this layer multiplies by exactly {@code weight} (the same array, not a copy) and owns no weight of its
     * own: a lm_head tied to the embedding. Merge and export leave such a layer out and never close its weight.
     */
    default boolean tiedTo(NDArray weight) {
        return false;
    }

    /**
     * Whether this kind of layer has a row kernel ({@link #forwardRows}): its weights can be multiplied from Java
     * arrays without a libtorch call. A model takes its fused decode path only when every projection says yes.
     */
    default boolean hasRowKernel() {
        return false;
    }

    /**
     * The decode-sized forward on Java arrays, without libtorch: {@code y [rows, outFeatures] = x [rows,
     * inFeatures]·Wᵀ (+ b)} (row-major), overwriting {@code y}. Inference only (nothing records a graph). Returns
     * {@code false}, leaving {@code y} untouched, when the layer's current state has no such path (the caller then
     * uses {@link #forward}). During a mixed-adapter forward row {@code i} is batch row {@code i}.
     * <pre>{@code
     * float[] y = new float[rows * (int) layer.outFeatures()];
     * boolean done = layer.hasRowKernel() && layer.forwardRows(x, rows, y);
     * }</pre>
     */
    default boolean forwardRows(float[] x, int rows, float[] y) {
        return false;
    }

    /**
     * This layer as {@code y = frozen.forward(x) + rest(x)}, for selective activation checkpointing: the frozen part
     * trains nothing, so its output can be computed once without a graph and kept, and the gradient at its input
     * formed by hand ({@link #frozenInputGradient}); only the rest is recomputed. A frozen layer is its own frozen
     * part; {@code null} when the layer has no such split (a trainable weight, DoRA, merged adapters).
     * <pre>{@code
     * LinearLayer frozen = layer.frozenPart();
     * NDArray kept = frozen.forward(x);                  // once, without a graph
     * NDArray y = layer.forwardAfterFrozen(x, kept);     // equals layer.forward(x)
     * }</pre>
     */
    default LinearLayer frozenPart() {
        return trainableParameters().isEmpty() ? this : null;
    }

    /**
     * {@link #forward}{@code (x)} given the {@link #frozenPart()}'s output for this {@code x}: that output is used as
     * it is and only the rest is computed (and recorded when a graph is).
     */
    default NDArray forwardAfterFrozen(NDArray x, NDArray frozenOutput) {
        if (frozenPart() != this) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " has no frozen split");
        }
        return frozenOutput;
    }

    /**
     * For a frozen layer: the gradient at the input of {@code sum(forward(x)·g)}, i.e. {@code g·W}
     * ({@code g [..., outFeatures]} to {@code [..., inFeatures]}); the result belongs to {@code g}'s manager.
     */
    default NDArray frozenInputGradient(NDArray g) {
        try (NDArray w = denseWeight(g.getManager())) {
            return g.matMul(w);
        }
    }

    /** Arrays that gradients flow into; empty for a frozen layer. */
    default List<NDArray> trainableParameters() {
        return List.of();
    }

    /** Bytes this layer keeps resident for its weights (packed codes count as stored). */
    long storedBytes();

    @Override
    void close();
}
