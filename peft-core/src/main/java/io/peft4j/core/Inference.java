package io.peft4j.core;

import io.peft4j.core.internal.GradMode;

/**
 * Marks a region of the current thread as inference only: no {@code GradientCollector} is open in it, so no
 * operation records an autograd graph and layers may reuse scratch buffers that a backward pass would otherwise
 * still read (e.g. a quantized layer's dequantized weight), and a model may free each layer's intermediates before
 * the next layer and prefill long prompts in chunks (LLaMA family). Outside such a region layers must assume
 * gradients may be recorded. Generation, perplexity evaluation and the inference benchmarks enter it; regions nest.
 * <pre>{@code
 * try (Inference.Scope ignored = Inference.enter()) {
 *     NDArray logits = model.forward(ids, null, null);   // no backward will follow
 * }
 * }</pre>
 * The outermost region also turns PyTorch's grad mode off on the thread (as {@code torch.no_grad()} does) and
 * restores it on leaving, so that a forward on a thread other than the one that started the engine records no graph.
 * Layers read peft4j's own flag ({@link #active()}), not the engine's. Thread-confined; the scope must be closed on
 * the thread that entered it.
 *
 * @since 0.1.0
 */
public final class Inference {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[2]);   // depth, grad mode before

    private Inference() {
    }

    /** Enters an inference-only region; close the returned scope to leave it. */
    public static Scope enter() {
        int[] d = DEPTH.get();
        if (d[0]++ == 0) {
            d[1] = GradMode.set(false) ? 1 : 0;
        }
        return new Scope();
    }

    /** Whether the current thread is inside an inference-only region. */
    public static boolean active() {
        return DEPTH.get()[0] > 0;
    }

    /** Leaves the region on close; closing twice is harmless. */
    public static final class Scope implements AutoCloseable {
        private boolean open = true;

        private Scope() {
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                int[] d = DEPTH.get();
                if (--d[0] == 0 && d[1] == 1) {
                    GradMode.set(true);
                }
            }
        }
    }
}
