package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.core.Linear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.adapter.AdapterRouting;
import io.peft4j.lora.internal.LayerState;
import io.peft4j.lora.internal.LoraRows;
import io.peft4j.lora.internal.LoraSlot;
import io.peft4j.lora.internal.LoraVariant;
import io.peft4j.lora.internal.MixedBatch;
import io.peft4j.lora.internal.SnapshotCell;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A projection with LoRA adapters: {@code y = base(x) + Σ_active B(A(dropout(x)))·scale} (LoRA, arXiv:2106.09685),
 * or with DoRA (arXiv:2402.09353) {@code y += (m/‖W+ΔW‖ − 1)·base(x) + m/‖W+ΔW‖ · B(A(x))·scale}, the row norm
 * detached as in PEFT. Wraps ANY {@link LinearLayer} (dense or quantized) through the seam only.
 * Several named adapters can live in one layer; the active ones are summed. During a mixed-adapter forward
 * ({@link AdapterRouting#current()} set on the calling thread) the routing decides instead: each row gets the delta
 * of the adapter it names, whatever is active or disabled.
 *
 * <p>Merging is non-destructive: the merged weight {@code W + ΣΔW} is kept beside the untouched base, so
 * {@link #unmergeAll()} is exact and disabling bypasses merged weights.
 *
 * <p>Thread-safety: the whole state (adapters, active and merged sets, merged weight, enabled and training flags)
 * is one immutable {@link LayerState} swapped by one volatile write (copy-on-write). Mutators are synchronized and
 * publish a new state; a forward pins the state once and uses that snapshot throughout, so it never sees a
 * half-made change. Arrays a change drops (an old merged weight, a removed adapter's A and B, everything on
 * {@link #close()}) are freed only when no forward still holds a state that references them: the layer
 * reference-counts its states ({@link SnapshotCell}) rather than relying on the adapter registry's write lock,
 * because the layer is public and reachable without that lock (a forward of the wrapped base model itself, or a
 * layer used on its own). The arrays {@link #adapterWeights} and {@link #trainableParameters()} return are live and
 * not pinned: hold the registry's lock while using them.
 *
 * <pre>{@code
 * LoraLinear q = new LoraLinear("model.layers.0.self_attn.q_proj", base, model.manager());
 * q.addAdapter("default", config, 42L);
 * q.setActive("default", true);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class LoraLinear implements LinearLayer {
    private final String modulePath;
    private final LinearLayer base;
    private final NDManager manager;
    private final SnapshotCell<LayerState> state = new SnapshotCell<>(LayerState.EMPTY);

    /** Wraps {@code base} (not owned: {@link #close()} leaves it open); adapter arrays live under {@code parent}. */
    public LoraLinear(String modulePath, LinearLayer base, NDManager parent) {
        this.modulePath = modulePath;
        this.base = base;
        this.manager = parent.newSubManager();
    }

    public String modulePath() {
        return modulePath;
    }

    /** The wrapped projection. */
    public LinearLayer base() {
        return base;
    }

    /** Adds adapter {@code name} (inactive) with this layer's rank/alpha from {@code config}'s patterns. */
    public synchronized void addAdapter(String name, LoraConfig config, long seed) {
        LayerState s = current();
        if (s.slots().containsKey(name)) {
            throw new IllegalArgumentException(modulePath + " already has a LoRA adapter named '" + name + "'");
        }
        LoraSlot.Spec spec = new LoraSlot.Spec(config.rankFor(modulePath), config.scaleFor(modulePath),
                config.loraDropout(), inFeatures(), outFeatures(), config.initLoraWeights());
        Supplier<NDArray> weight = () -> s.merged() != null ? s.merged() : base.denseWeight(manager);
        LoraSlot slot = LoraSlot.create(name, spec, LoraVariant.of(config.useDora()), weight, seed, manager);
        publish(s, s.withSlot(slot));
    }

    public Set<String> adapterNames() {
        return Set.copyOf(state.peek().slots().keySet());
    }

    /** Activates or deactivates adapter {@code name}; deactivating a merged adapter unmerges it first. */
    public synchronized void setActive(String name, boolean active) {
        LayerState old = current();
        slot(old, name);
        LayerState s = !active && old.isMerged(name) ? remerged(old, without(old.mergeOrder(), name)) : old;
        publish(old, s.withActive(name, active));
    }

    /** With {@code false} every forward is the base layer's, merged weights included. */
    public synchronized void setEnabled(boolean enabled) {
        LayerState s = current();
        publish(s, s.withEnabled(enabled));
    }

    public synchronized void setTraining(boolean training) {
        LayerState s = current();
        publish(s, s.withTraining(training));
    }

    /** Live arrays of adapter {@code name}: {@code lora_A.weight}, {@code lora_B.weight}[, magnitude (DoRA)]. */
    public Map<String, NDArray> adapterWeights(String name) {
        return slot(state.peek(), name).weights();
    }

    /** Folds adapter {@code name} into the effective weight. */
    public synchronized void merge(String name) {
        LayerState s = current();
        slot(s, name);
        if (!s.isMerged(name)) {
            List<String> order = new ArrayList<>(s.mergeOrder());
            order.add(name);
            publish(s, remerged(s, order));
        }
    }

    /** Takes adapter {@code name} out of the effective weight, recomputing it from the untouched base. */
    public synchronized void unmerge(String name) {
        LayerState s = current();
        slot(s, name);
        if (s.isMerged(name)) {
            publish(s, remerged(s, without(s.mergeOrder(), name)));
        }
    }

    public synchronized void unmergeAll() {
        LayerState s = current();
        publish(s, remerged(s, List.of()));
    }

    public boolean isMerged(String name) {
        LayerState s = state.peek();
        slot(s, name);
        return s.isMerged(name);
    }

    /** Recomputes the merged weight after the arrays of a merged adapter changed (e.g. a load). */
    public synchronized void refreshMerged() {
        LayerState s = current();
        publish(s, remerged(s, s.mergeOrder()));
    }

    /** Removes adapter {@code name} (unmerging it first); its arrays are freed once no forward uses them. */
    public synchronized boolean removeAdapter(String name) {
        LayerState s = current();
        slot(s, name);
        LayerState next = (s.isMerged(name) ? remerged(s, without(s.mergeOrder(), name)) : s).withoutSlot(name);
        publish(s, next);
        return next.slots().isEmpty();
    }

    @Override
    public NDArray forward(NDArray x) {
        try (SnapshotCell.Pin<LayerState> pin = state.pin()) {
            LayerState s = open(pin);
            AdapterRouting routing = AdapterRouting.current();
            if (routing != null) {
                return routedForward(s, x, routing);
            }
            if (!s.enabled()) {
                return base.forward(x);
            }
            NDArray w = s.merged();
            return withDeltas(s, x, w == null ? base.forward(x) : Linear.linear(x, w, base.bias()).singletonOrThrow(),
                    w);
        }
    }

    /** {@code y} (the base or merged output for {@code x}) plus each live adapter's delta. */
    private NDArray withDeltas(LayerState s, NDArray x, NDArray y, NDArray merged) {
        Supplier<NDArray> weight = () -> merged == null ? base.denseWeight(x.getManager()) : merged;
        for (LoraSlot slot : s.live()) {
            NDArray xd = slot.drop(x, s.training());
            y = y.add(slot.variant().delta(y, xd, x != xd, slot, weight, base.bias()));
        }
        return y;
    }

    /**
     * The base layer while every live adapter is plain LoRA and nothing is merged or routed per row: then
     * {@code y = base(x) + Σ B(A(x))·scale}, and selective checkpointing keeps {@code base(x)}. Null otherwise.
     */
    @Override
    public LinearLayer frozenPart() {
        return splits(state.peek()) ? base : null;
    }

    /** {@link #forward} with {@code frozenOutput = base.forward(x)} given: the same adapters, dropout and sums. */
    @Override
    public NDArray forwardAfterFrozen(NDArray x, NDArray frozenOutput) {
        try (SnapshotCell.Pin<LayerState> pin = state.pin()) {
            LayerState s = open(pin);
            if (!splits(s)) {
                throw new IllegalStateException(modulePath + ": no frozen split now (merged, routed or DoRA adapters)");
            }
            return s.enabled() ? withDeltas(s, x, frozenOutput, null) : frozenOutput;
        }
    }

    private boolean splits(LayerState s) {
        return AdapterRouting.current() == null && s.merged() == null && base.frozenPart() == base
                && s.live().stream().allMatch(slot -> slot.variant() == LoraVariant.PLAIN);
    }

    /** The pinned state, refused once the layer is closed. */
    private LayerState open(SnapshotCell.Pin<LayerState> pin) {
        LayerState s = pin.value();
        if (s.closed()) {
            throw new IllegalStateException(modulePath + ": LoRA layer is closed");
        }
        return s;
    }

    /** Mixed batch: base output plus, per row, the delta of the adapter the routing names (no dropout). */
    private NDArray routedForward(LayerState s, NDArray x, AdapterRouting routing) {
        if (s.merged() != null) {
            throw new IllegalStateException(modulePath + ": per-row adapters cannot run while adapters are merged");
        }
        Supplier<NDArray> weight = () -> base.denseWeight(x.getManager());
        return MixedBatch.forward(modulePath, x, base.forward(x), routing, s.slots(),
                (slot, xs, ys) -> slot.variant().delta(ys, xs, false, slot, weight, base.bias()));
    }

    /** Whether the base layer has a row kernel: the adapters' part always has one (plain LoRA, Java arrays). */
    @Override
    public boolean hasRowKernel() {
        return base.hasRowKernel();
    }

    /**
     * {@link #forward} on Java arrays for a decode step: the base layer's row kernel plus each adapter's
     * {@code scale·B(A(x))} per row, with the same choice of adapters (active ones, or the mixed-batch routing).
     * {@code false} (y untouched) when adapters are merged, an adapter that would contribute is DoRA or would
     * apply dropout, or the base has no row path; the caller then uses {@link #forward}.
     */
    @Override
    public boolean forwardRows(float[] x, int rows, float[] y) {
        try (SnapshotCell.Pin<LayerState> pin = state.pin()) {
            LayerState s = open(pin);
            AdapterRouting routing = AdapterRouting.current();
            if (routing != null) {
                return s.merged() == null && LoraRows.routed(modulePath, base, s.slots(), routing, x, rows, y);
            }
            if (!s.enabled()) {
                return base.forwardRows(x, rows, y);
            }
            return s.merged() == null && LoraRows.live(base, s.live(), s.training(), x, rows, y);
        }
    }

    @Override
    public long inFeatures() {
        return base.inFeatures();
    }

    @Override
    public long outFeatures() {
        return base.outFeatures();
    }

    /** The base weight, plus merged adapters' deltas when some are merged. */
    @Override
    public NDArray denseWeight(NDManager target) {
        try (SnapshotCell.Pin<LayerState> pin = state.pin()) {
            NDArray w = pin.value().merged();
            if (w == null) {
                return base.denseWeight(target);
            }
            NDArray copy = w.duplicate();
            copy.attach(target);
            return copy;
        }
    }

    @Override
    public NDArray bias() {
        return base.bias();
    }

    /** The live arrays of the active, unmerged adapters (what gradients flow into). */
    @Override
    public List<NDArray> trainableParameters() {
        List<NDArray> out = new ArrayList<>();
        state.peek().live().forEach(s -> out.addAll(s.weights().values()));
        return out;
    }

    @Override
    public long storedBytes() {
        try (SnapshotCell.Pin<LayerState> pin = state.pin()) {
            LayerState s = pin.value();
            long n = base.storedBytes();
            for (LoraSlot slot : s.slots().values()) {
                n += 4 * slot.parameterCount();
            }
            return n + (s.merged() == null ? 0 : 4 * s.merged().size());
        }
    }

    /**
     * Frees the adapters and merged weight (once no forward uses them); the base layer stays open (its owner
     * closes it). Forwards after close are refused.
     */
    @Override
    public synchronized void close() {
        LayerState s = state.peek();
        if (s.closed()) {
            return;
        }
        List<NDArray> dropped = dropped(s, LayerState.closedState());
        state.publish(LayerState.closedState(), () -> {
            dropped.forEach(NDArray::close);
            manager.close();
        });
    }

    private LayerState current() {
        LayerState s = state.peek();
        if (s.closed()) {
            throw new IllegalStateException(modulePath + ": LoRA layer is closed");
        }
        return s;
    }

    private LoraSlot slot(LayerState s, String name) {
        LoraSlot slot = s.slots().get(name);
        if (slot == null) {
            throw new IllegalArgumentException(modulePath + " has no LoRA adapter named '" + name + "' (has "
                    + s.slots().keySet() + ")");
        }
        return slot;
    }

    /** {@code s} with {@code order} merged: the effective weight rebuilt from the untouched base. */
    private LayerState remerged(LayerState s, List<String> order) {
        if (order.isEmpty()) {
            return s.withMerged(order, null);
        }
        try (NDScope scope = new NDScope()) {
            NDArray w = base.denseWeight(manager);
            for (String name : order) {
                LoraSlot slot = s.slots().get(name);
                w = slot.variant().merge(w, slot);
            }
            NDArray next = LoraSlot.keep(w);
            next.attach(manager);
            return s.withMerged(order, next);
        }
    }

    private static List<String> without(List<String> order, String name) {
        List<String> out = new ArrayList<>(order);
        out.remove(name);
        return out;
    }

    /** Publishes {@code next}; the arrays {@code old} holds and {@code next} does not are freed when unused. */
    private void publish(LayerState old, LayerState next) {
        List<NDArray> dropped = dropped(old, next);
        state.publish(next, dropped.isEmpty() ? null : () -> dropped.forEach(NDArray::close));
    }

    private static List<NDArray> dropped(LayerState old, LayerState next) {
        List<NDArray> out = new ArrayList<>();
        if (old.merged() != null && old.merged() != next.merged()) {
            out.add(old.merged());
        }
        old.slots().forEach((name, slot) -> {
            if (next.slots().get(name) != slot) {
                out.addAll(slot.arrays());
            }
        });
        return out;
    }
}
