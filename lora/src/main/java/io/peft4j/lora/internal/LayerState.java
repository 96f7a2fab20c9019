package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a {@code LoraLinear} forward reads, as one immutable value: the adapters by name (in add order),
 * which are active, which are merged (in merge order) with the merged weight, and the enabled and training flags.
 * Changes build a new value ({@code withX}); the layer publishes it through a {@link SnapshotCell}, so a forward
 * sees one consistent state from start to end.
 *
 * <pre>{@code
 * LayerState s = LayerState.EMPTY.withSlot(slot).withActive("default", true);
 * s.live();                         // [slot]: active and not merged
 * }</pre>
 *
 * @param slots      adapters by name, in add order
 * @param active     names of the active adapters
 * @param mergeOrder names of the merged adapters, in the order they were folded in
 * @param merged     effective weight {@code [out, in]} with the merged adapters, or {@code null} when none is merged
 * @param enabled    {@code false}: every forward is the base layer's
 * @param training   adapter dropout on
 * @param closed     the layer was closed; forwards are refused
 */
public record LayerState(Map<String, LoraSlot> slots, Set<String> active, List<String> mergeOrder, NDArray merged,
                         boolean enabled, boolean training, boolean closed) {
    /** No adapters, enabled, inference. */
    public static final LayerState EMPTY = new LayerState(Map.of(), Set.of(), List.of(), null, true, false, false);

    public LayerState {
        slots = Collections.unmodifiableMap(new LinkedHashMap<>(slots));
        active = Collections.unmodifiableSet(new LinkedHashSet<>(active));
        mergeOrder = List.copyOf(mergeOrder);
        if ((merged == null) != mergeOrder.isEmpty()) {
            throw new IllegalArgumentException("merged weight " + (merged == null ? "missing" : "present")
                    + " for merge order " + mergeOrder);
        }
    }

    /** The adapters a forward adds on top of the (possibly merged) weight: active and not merged, in add order. */
    public List<LoraSlot> live() {
        List<LoraSlot> out = new ArrayList<>();
        slots.forEach((name, s) -> {
            if (active.contains(name) && !mergeOrder.contains(name)) {
                out.add(s);
            }
        });
        return out;
    }

    /** The merged slots in merge order. */
    public List<LoraSlot> mergedSlots() {
        return mergeOrder.stream().map(slots::get).toList();
    }

    public boolean isMerged(String name) {
        return mergeOrder.contains(name);
    }

    public LayerState withSlot(LoraSlot slot) {
        Map<String, LoraSlot> s = new LinkedHashMap<>(slots);
        s.put(slot.name(), slot);
        return new LayerState(s, active, mergeOrder, merged, enabled, training, closed);
    }

    /** Without adapter {@code name}, which must not be merged. */
    public LayerState withoutSlot(String name) {
        if (isMerged(name)) {
            throw new IllegalStateException("adapter '" + name + "' is merged: unmerge before removing it");
        }
        Map<String, LoraSlot> s = new LinkedHashMap<>(slots);
        s.remove(name);
        Set<String> a = new LinkedHashSet<>(active);
        a.remove(name);
        return new LayerState(s, a, mergeOrder, merged, enabled, training, closed);
    }

    public LayerState withActive(String name, boolean on) {
        Set<String> a = new LinkedHashSet<>(active);
        if (on) {
            a.add(name);
        } else {
            a.remove(name);
        }
        return new LayerState(slots, a, mergeOrder, merged, enabled, training, closed);
    }

    /** With {@code order} merged into {@code weight} (both empty/{@code null} for none). */
    public LayerState withMerged(List<String> order, NDArray weight) {
        return new LayerState(slots, active, order, weight, enabled, training, closed);
    }

    public LayerState withEnabled(boolean on) {
        return new LayerState(slots, active, mergeOrder, merged, on, training, closed);
    }

    public LayerState withTraining(boolean on) {
        return new LayerState(slots, active, mergeOrder, merged, enabled, on, closed);
    }

    /** The state of a closed layer: nothing left. */
    public static LayerState closedState() {
        return new LayerState(Map.of(), Set.of(), List.of(), null, false, false, true);
    }
}
