package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;
import io.peft4j.core.LinearLayer;

import java.util.List;

/**
 * A projection listed in {@code modules_to_save}: the active adapter's trainable full copy computes
 * {@code x·Wᵀ + b}, or the untouched base layer when no copy is active or adapters are disabled. Wraps any
 * {@link LinearLayer} (a tied lm_head too: the copy unties it, as in PEFT).
 *
 * <pre>{@code
 * ModulesToSaveLinear head = new ModulesToSaveLinear(base, copies);
 * model.replaceLinear("lm_head", head);
 * NDArray logits = head.forward(hidden);
 * }</pre>
 */
public final class ModulesToSaveLinear implements LinearLayer {
    private final LinearLayer base;
    private final ModuleCopies copies;

    /** {@code base} is not owned; {@code copies} holds the per-adapter weights. */
    public ModulesToSaveLinear(LinearLayer base, ModuleCopies copies) {
        this.base = base;
        this.copies = copies;
    }

    public LinearLayer base() {
        return base;
    }

    public ModuleCopies copies() {
        return copies;
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray[] c = copies.current();
        return c == null ? base.forward(x) : Linear.linear(x, c[0], c.length > 1 ? c[1] : null).singletonOrThrow();
    }

    @Override
    public long inFeatures() {
        return base.inFeatures();
    }

    @Override
    public long outFeatures() {
        return base.outFeatures();
    }

    /** The active copy's weight (duplicated onto {@code manager}), else the base layer's. */
    @Override
    public NDArray denseWeight(NDManager manager) {
        NDArray[] c = copies.current();
        if (c == null) {
            return base.denseWeight(manager);
        }
        NDArray w = c[0].duplicate();
        w.attach(manager);
        return w;
    }

    @Override
    public NDArray bias() {
        NDArray[] c = copies.current();
        return c == null ? base.bias() : c.length > 1 ? c[1] : null;
    }

    @Override
    public List<NDArray> trainableParameters() {
        NDArray[] c = copies.current();
        return c == null ? List.of() : List.of(c);
    }

    @Override
    public long storedBytes() {
        return base.storedBytes() + copies.storedBytes();
    }

    /** Nothing to free here: the copies are freed by their adapters, the base by its owner. */
    @Override
    public void close() {
        // the base layer is not owned; ModuleCopies frees the copies when the last adapter goes
    }
}
