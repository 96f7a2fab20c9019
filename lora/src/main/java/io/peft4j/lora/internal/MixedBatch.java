package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.adapter.AdapterRouting;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The mixed-batch part of {@code LoraLinear.forward}: PEFT's {@code _mixed_batch_forward}. Each adapter's delta is
 * computed only on the rows that asked for it (rows gathered along axis 0), the pieces are concatenated and put
 * back in row order by one gather with the inverse permutation, then added to the base output. Stateless.
 *
 * <pre>{@code
 * NDArray y = MixedBatch.forward(path, x, base.forward(x), routing, slots,
 *         (slot, xs, ys) -> slot.variant().delta(ys, xs, false, slot, weight, bias));
 * }</pre>
 */
public final class MixedBatch {
    private MixedBatch() {
    }

    /**
     * A slot's contribution {@code [rows, ..., out]} for its input rows {@code x} and base output rows {@code y}
     * ({@code y} is given only to variants that {@linkplain LoraVariant#readsBaseOutput() read it}; {@code null}
     * otherwise).
     */
    @FunctionalInterface
    public interface Delta {
        NDArray of(LoraSlot slot, NDArray x, NDArray y);
    }

    /**
     * {@code y + Σ_groups delta(rows)} for {@code x [B, ..., in]} and base output {@code y [B, ..., out]}; rows
     * routed to {@value AdapterRouting#BASE} or to an adapter this layer does not hold get no delta.
     */
    public static NDArray forward(String modulePath, NDArray x, NDArray y, AdapterRouting routing,
                                 Map<String, LoraSlot> slots, Delta delta) {
        String single = routing.single();
        if (single != null) {
            LoraSlot s = slots.get(single);
            return s == null ? y : y.add(delta.of(s, x, y));
        }
        long batch = x.getShape().get(0);
        if (batch != routing.rows()) {
            throw new IllegalStateException(modulePath + ": input has " + batch + " rows on axis 0 but the batch "
                    + "routing has " + routing.rows() + " (" + routing.rowAdapters() + ")");
        }
        NDManager m = x.getManager();
        Shape tail = y.getShape().slice(1);
        List<NDArray> parts = new ArrayList<>();
        long[] order = new long[(int) batch];
        int k = 0;
        boolean any = false;
        for (Map.Entry<String, long[]> g : routing.groups().entrySet()) {
            long[] rows = g.getValue();
            LoraSlot s = slots.get(g.getKey());
            if (s == null) {
                parts.add(m.zeros(new Shape(rows.length).addAll(tail), y.getDataType()));
            } else {
                NDArray idx = m.create(rows);
                parts.add(delta.of(s, x.get(idx), s.variant().readsBaseOutput() ? y.get(idx) : null));
                any = true;
            }
            for (long r : rows) {
                order[k++] = r;
            }
        }
        if (!any) {
            return y;
        }
        long[] inverse = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[(int) order[i]] = i;
        }
        NDArray stacked = NDArrays.concat(new NDList(parts), 0);
        return y.add(stacked.get(m.create(inverse)));
    }
}
