package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.core.Linear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.adapter.AdapterRouting;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A projection with LoRA adapters: {@code y = base(x) + Σ_active B(A(dropout(x)))·scale} (LoRA, arXiv:2106.09685),
 * or with DoRA (arXiv:2402.09353) {@code y += (m/‖W+ΔW‖ − 1)·base(x) + m/‖W+ΔW‖ · B(A(x))·scale}, the row norm
 * detached as in PEFT. Wraps ANY {@link LinearLayer} (dense or quantized) through the seam only.
 * Several named adapters can live in one layer; the active ones are summed. During a mixed-adapter forward
 * ({@link AdapterRouting#current()} set on the calling thread) the routing decides instead: each row gets the delta
 * of the adapter it names, whatever is active or disabled.
 *
 * <p>Merging is non-destructive: the merged weight {@code W + ΣΔW} is kept beside the untouched base, so
 * {@link #unmergeAll()} is exact and disabling bypasses merged weights. Mutators are synchronized; forward reads
 * volatile snapshots, so swaps from another thread never tear a forward.
 *
 * <pre>{@code
 * LoraLinear q = new LoraLinear("model.layers.0.self_attn.q_proj", base, model.manager());
 * q.addAdapter("default", config, 42L);
 * q.setActive("default", true);
 * }</pre>
 */
public final class LoraLinear implements LinearLayer {
    private final String modulePath;
    private final LinearLayer base;
    private final NDManager manager;
    private final Map<String, LoraSlot> slots = new LinkedHashMap<>();
    private volatile Map<String, LoraSlot> byName = Map.of();   // snapshot of slots for routed forwards
    private final List<LoraSlot> mergeOrder = new ArrayList<>();
    private volatile List<LoraSlot> live = List.of();   // active and not merged
    private volatile NDArray merged;                    // [out, in] effective weight, or null
    private volatile boolean enabled = true;
    private volatile boolean training;

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
        if (slots.containsKey(name)) {
            throw new IllegalArgumentException(modulePath + " already has a LoRA adapter named '" + name + "'");
        }
        int r = config.rankFor(modulePath);
        LoraSlot s = LoraSlot.create(name, r, config.scaleFor(modulePath), config.loraDropout(), config.useDora(),
                inFeatures(), outFeatures(), config.initLoraWeights(), seed, manager);
        if (s.dora) {
            try (NDScope scope = new NDScope()) {
                NDArray w = merged != null ? merged : base.denseWeight(manager);
                s.magnitude = LoraSlot.keep(DoraMath.initialMagnitude(w, s, manager));
            }
            s.magnitude.setRequiresGradient(true);
        }
        slots.put(name, s);
        byName = Map.copyOf(slots);
    }

    public synchronized Set<String> adapterNames() {
        return Set.copyOf(slots.keySet());
    }

    public synchronized void setActive(String name, boolean active) {
        LoraSlot s = slot(name);
        if (!active && s.merged) {
            unmerge(name);
        }
        s.active = active;
        refresh();
    }

    /** With {@code false} every forward is the base layer's, merged weights included. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public void setTraining(boolean training) {
        this.training = training;
    }

    /** Live arrays of adapter {@code name}: {@code lora_A.weight}, {@code lora_B.weight}, {@code lora_magnitude_vector}. */
    public synchronized Map<String, NDArray> adapterWeights(String name) {
        LoraSlot s = slot(name);
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("lora_A.weight", s.a);
        out.put("lora_B.weight", s.b);
        if (s.magnitude != null) {
            out.put("lora_magnitude_vector", s.magnitude);
        }
        return out;
    }

    synchronized LoraSlot slot(String name) {
        LoraSlot s = slots.get(name);
        if (s == null) {
            throw new IllegalArgumentException(modulePath + " has no LoRA adapter named '" + name + "' (has "
                    + slots.keySet() + ")");
        }
        return s;
    }

    /** Folds adapter {@code name} into the effective weight. */
    public synchronized void merge(String name) {
        LoraSlot s = slot(name);
        if (!s.merged) {
            s.merged = true;
            mergeOrder.add(s);
            rebuildMerged();
        }
    }

    /** Takes adapter {@code name} out of the effective weight, recomputing it from the untouched base. */
    public synchronized void unmerge(String name) {
        LoraSlot s = slot(name);
        if (s.merged) {
            s.merged = false;
            mergeOrder.remove(s);
            rebuildMerged();
        }
    }

    public synchronized void unmergeAll() {
        mergeOrder.forEach(s -> s.merged = false);
        mergeOrder.clear();
        rebuildMerged();
    }

    public synchronized boolean isMerged(String name) {
        return slot(name).merged;
    }

    /** Recomputes the merged weight after the arrays of a merged adapter changed (e.g. a load). */
    public synchronized void refreshMerged() {
        rebuildMerged();
    }

    /** Removes and frees adapter {@code name}; returns true when no adapter is left. */
    public synchronized boolean removeAdapter(String name) {
        LoraSlot s = slot(name);
        if (s.merged) {
            unmerge(name);
        }
        slots.remove(name);
        byName = Map.copyOf(slots);
        refresh();
        s.close();
        return slots.isEmpty();
    }

    @Override
    public NDArray forward(NDArray x) {
        AdapterRouting routing = AdapterRouting.current();
        if (routing != null) {
            return routedForward(x, routing);
        }
        if (!enabled) {
            return base.forward(x);
        }
        NDArray w = merged;
        NDArray y = w == null ? base.forward(x) : Linear.linear(x, w, base.bias()).singletonOrThrow();
        for (LoraSlot s : live) {
            NDArray xd = s.drop(x, training);
            if (s.dora) {
                y = DoraMath.forward(y, xd, x != xd, s, w == null ? base.denseWeight(x.getManager()) : w, base.bias());
            } else {
                y = y.add(s.loraOut(xd));
            }
        }
        return y;
    }

    /** Mixed batch: base output plus, per row, the delta of the adapter the routing names (no dropout). */
    private NDArray routedForward(NDArray x, AdapterRouting routing) {
        if (merged != null) {
            throw new IllegalStateException(modulePath + ": per-row adapters cannot run while adapters are merged");
        }
        return MixedBatch.forward(modulePath, x, base.forward(x), routing, byName, (s, xs, ys) -> s.dora
                ? DoraMath.delta(ys, xs, false, s, base.denseWeight(x.getManager()), base.bias())
                : s.loraOut(xs));
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
        NDArray w = merged;
        if (w == null) {
            return base.denseWeight(target);
        }
        NDArray copy = w.duplicate();
        copy.attach(target);
        return copy;
    }

    @Override
    public NDArray bias() {
        return base.bias();
    }

    @Override
    public List<NDArray> trainableParameters() {
        List<NDArray> out = new ArrayList<>();
        for (LoraSlot s : live) {
            out.add(s.a);
            out.add(s.b);
            if (s.magnitude != null) {
                out.add(s.magnitude);
            }
        }
        return out;
    }

    @Override
    public synchronized long storedBytes() {
        long n = base.storedBytes();
        for (LoraSlot s : slots.values()) {
            n += 4 * s.parameterCount();
        }
        NDArray w = merged;
        return n + (w == null ? 0 : 4 * w.size());
    }

    private void refresh() {
        List<LoraSlot> l = new ArrayList<>();
        for (LoraSlot s : slots.values()) {
            if (s.active && !s.merged) {
                l.add(s);
            }
        }
        live = List.copyOf(l);
    }

    private void rebuildMerged() {
        NDArray old = merged;
        NDArray next = null;
        if (!mergeOrder.isEmpty()) {
            try (NDScope scope = new NDScope()) {
                NDArray w = base.denseWeight(manager);
                for (LoraSlot s : mergeOrder) {
                    w = s.dora ? DoraMath.merge(w, s) : w.add(s.deltaWeight());
                }
                next = LoraSlot.keep(w);
                next.attach(manager);
            }
        }
        merged = next;
        refresh();
        if (old != null) {
            old.close();
        }
    }

    /** Frees the adapters and merged weight; the base layer stays open (its owner closes it). */
    @Override
    public synchronized void close() {
        slots.values().forEach(LoraSlot::close);
        slots.clear();
        byName = Map.of();
        live = List.of();
        merged = null;
        manager.close();
    }
}
