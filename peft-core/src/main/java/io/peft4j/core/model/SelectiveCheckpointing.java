package io.peft4j.core.model;

import java.util.function.Supplier;

/**
 * Selective activation checkpointing for the calling thread. While {@link #during} runs its body with {@code on},
 * a checkpointed backward of a LLaMA-family model keeps, besides each decoder layer's input, the frozen outputs of
 * its gate, up and down projections ({@code x·Wᵀ} of the base weights, computed once in the first pass), and
 * recomputes only the rest: norms, attention and its projections, the SwiGLU and the adapters' low-rank paths. The
 * gradients at the kept outputs go through the frozen weights by hand ({@code g·W}). That skips the MLP's three
 * matrix products, most of a layer's multiply-adds, for {@code 2 × intermediate_size + hidden_size} floats per token
 * per layer more memory. Layers whose MLP projections have no frozen split (DoRA, merged or trainable weights) are
 * recomputed in full. Gradients equal the full recompute's up to float summation order.
 * <pre>{@code
 * float loss = SelectiveCheckpointing.during(true, () -> model.backward(ids, mask, null, lossFn, true, seed));
 * }</pre>
 * A thread-scoped setting, as {@code AdapterRouting} is for mixed batches: the trainer sets it around each
 * micro-batch from {@code TrainerConfig.selectiveCheckpointing()}.
 *
 * @since 0.1.0
 */
public final class SelectiveCheckpointing {
    private static final ThreadLocal<Boolean> ON = ThreadLocal.withInitial(() -> false);

    private SelectiveCheckpointing() {
    }

    /** Runs {@code body} with selective checkpointing {@code on} (or off) on this thread, then restores the old one. */
    public static <T> T during(boolean on, Supplier<T> body) {
        boolean old = ON.get();
        ON.set(on);
        try {
            return body.get();
        } finally {
            ON.set(old);
        }
    }

    /** Whether a checkpointed backward on this thread keeps the frozen MLP outputs. */
    public static boolean isOn() {
        return ON.get();
    }
}
