package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.adapter.AdapterRouting;
import io.peft4j.core.decode.DecodeMath;
import io.peft4j.core.decode.NativeViews;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * The row kernel of {@code LoraLinear} ({@link LinearLayer#forwardRows}): base rows from the wrapped layer's own
 * row kernel, plus {@code scale·B(A(x))} per row with the decode loops of {@link DecodeMath} (SIMD when available),
 * for decode-sized inputs (a few rows) where one libtorch call costs more than the arithmetic. Only plain LoRA without
 * active dropout runs here; anything else (DoRA, dropout while training) reports {@code false} so the caller uses
 * {@code forward}. A and B are read live through a zero-copy view of the tensor memory ({@code toByteBuffer(true)}),
 * never cached, because the optimizer and adapter loads update them in place. Stateless.
 *
 * <pre>{@code
 * boolean done = LoraRows.live(base, state.live(), state.training(), x, rows, y);
 * boolean done = LoraRows.routed(path, base, state.slots(), AdapterRouting.current(), x, rows, y);
 * }</pre>
 */
public final class LoraRows {
    private LoraRows() {
    }

    /**
     * {@code y = base(x) + Σ_slots scale·B(A(x))} on every row; {@code false} (y untouched) when a slot is not
     * plain LoRA, would apply dropout, or {@code base} has no row path for its current state.
     */
    public static boolean live(LinearLayer base, List<LoraSlot> slots, boolean training, float[] x, int rows,
                               float[] y) {
        for (LoraSlot slot : slots) {
            if (!plain(slot, training)) {
                return false;
            }
        }
        if (!base.forwardRows(x, rows, y)) {
            return false;
        }
        for (LoraSlot slot : slots) {
            add(slot, x, null, rows, y);
        }
        return true;
    }

    /**
     * A mixed-adapter forward as {@link MixedBatch} does it: {@code routing.single()} adds that adapter's delta to
     * every row, otherwise row {@code i} gets the delta of the adapter {@code routing} names for it (none for
     * {@value AdapterRouting#BASE} or an adapter this layer does not hold). No dropout. {@code false} (y
     * untouched) when a contributing slot is not plain LoRA or {@code base} has no row path.
     *
     * @throws IllegalStateException when {@code rows} differs from the rows of a per-row routing
     */
    public static boolean routed(String modulePath, LinearLayer base, Map<String, LoraSlot> slots,
                                 AdapterRouting routing, float[] x, int rows, float[] y) {
        String single = routing.single();
        if (single == null && rows != routing.rows()) {
            throw new IllegalStateException(modulePath + ": input has " + rows + " rows but the batch routing has "
                    + routing.rows() + " (" + routing.rowAdapters() + ")");
        }
        Map<String, long[]> groups = single != null ? Map.of(single, new long[0]) : routing.groups();
        for (String name : groups.keySet()) {
            LoraSlot slot = slots.get(name);
            if (slot != null && !plain(slot, false)) {
                return false;
            }
        }
        if (!base.forwardRows(x, rows, y)) {
            return false;
        }
        for (Map.Entry<String, long[]> g : groups.entrySet()) {
            LoraSlot slot = slots.get(g.getKey());
            if (slot != null) {
                add(slot, x, single != null ? null : g.getValue(), rows, y);
            }
        }
        return true;
    }

    /** Whether the slot's delta is {@code scale·B(A(x))} exactly: plain LoRA, no dropout in effect. */
    private static boolean plain(LoraSlot slot, boolean training) {
        return slot.variant() == LoraVariant.PLAIN && slot.magnitude() == null && !slot.dropsOut(training);
    }

    /** {@code y[n] += scale·B·(A·x[n])} for the rows {@code which} (every row {@code 0..rows-1} when null). */
    private static void add(LoraSlot slot, float[] x, long[] which, int rows, float[] y) {
        NDArray a = slot.a();
        int r = Math.toIntExact(a.getShape().get(0));
        int in = Math.toIntExact(a.getShape().get(1));
        int out = Math.toIntExact(slot.b().getShape().get(0));
        ByteBuffer av = view(a);
        ByteBuffer bv = view(slot.b());
        DecodeMath math = DecodeMath.INSTANCE;
        float scale = slot.scale();
        float[] t = new float[r];
        int n = which == null ? rows : which.length;
        for (int j = 0; j < n; j++) {
            int row = which == null ? j : (int) which[j];
            int xo = row * in;
            for (int k = 0; k < r; k++) {
                t[k] = math.dot(av, k * in, x, xo, in);
            }
            int yo = row * out;
            for (int o = 0; o < out; o++) {
                y[yo + o] += scale * math.dot(bv, o * r, t, 0, r);
            }
        }
    }

    /**
     * The fp32 contents of {@code arr}: a view aliasing the tensor memory (so in-place updates are seen) when the
     * engine gives one, else a copy (a non-contiguous or non-CPU tensor).
     */
    private static ByteBuffer view(NDArray arr) {
        ByteBuffer view = NativeViews.of(arr);
        if (view != null) {
            return view;
        }
        ByteBuffer copy = ByteBuffer.allocate(4 * Math.toIntExact(arr.size())).order(ByteOrder.LITTLE_ENDIAN);
        copy.asFloatBuffer().put(arr.toFloatArray());
        return copy;
    }
}
