package io.peft4j.core;

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
 * DJL exposes no public grad-mode query, which is why peft4j keeps its own flag instead of asking the engine.
 * Thread-confined; the scope must be closed on the thread that entered it.
 *
 * @since 0.1.0
 */
public final class Inference {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Inference() {
    }

    /** Enters an inference-only region; close the returned scope to leave it. */
    public static Scope enter() {
        DEPTH.get()[0]++;
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
                DEPTH.get()[0]--;
            }
        }
    }
}
