package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;

import java.util.function.Supplier;

/**
 * How one LoRA adapter turns its low-rank pair into an output delta and a merged weight: plain LoRA
 * ({@link #PLAIN}, arXiv:2106.09685) or DoRA ({@link #DORA}, arXiv:2402.09353). A strategy object as PEFT's
 * {@code LoraVariant}, so {@code LoraLinear} has no {@code if (dora)} branches. Implementations are stateless and
 * thread-safe; the per-adapter arrays live in the {@link LoraSlot}.
 *
 * <pre>{@code
 * LoraVariant v = LoraVariant.of(config.useDora());
 * NDArray y2 = y.add(v.delta(y, x, false, slot, () -> base.denseWeight(m), base.bias()));
 * NDArray merged = v.merge(weight, slot);
 * }</pre>
 */
public interface LoraVariant {
    /** {@code B(A(x))·scale}. */
    LoraVariant PLAIN = new PlainVariant();
    /** Weight-decomposed LoRA with a trainable magnitude per output row. */
    LoraVariant DORA = new DoraVariant();

    /** {@link #DORA} when {@code useDora}, else {@link #PLAIN}. */
    static LoraVariant of(boolean useDora) {
        return useDora ? DORA : PLAIN;
    }

    /**
     * The extra trainable vector the variant keeps beside A and B ({@code [out]}, DoRA's magnitude), computed from
     * the current effective weight {@code [out, in]} and the new adapter's ΔW; {@code null} when it keeps none.
     * Both are suppliers so that a variant without a magnitude computes neither (attaching plain LoRA never copies
     * the base weight or forms ΔW).
     */
    NDArray initialMagnitude(Supplier<NDArray> weight, Supplier<NDArray> deltaWeight);

    /**
     * What the adapter adds to the layer output {@code y [..., out]} for input {@code xd} (after dropout;
     * {@code droppedOut} tells whether dropout changed it). {@code weight} gives the effective weight
     * {@code [out, in]} and is only called by variants that need it; {@code bias} is the base bias or {@code null}.
     */
    NDArray delta(NDArray y, NDArray xd, boolean droppedOut, LoraSlot slot, Supplier<NDArray> weight, NDArray bias);

    /** The weight {@code [out, in]} after folding the adapter into {@code weight}. */
    NDArray merge(NDArray weight, LoraSlot slot);

    /** Whether {@link #delta} reads {@code y} (mixed batches then gather the base output rows too). */
    boolean readsBaseOutput();
}
