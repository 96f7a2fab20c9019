package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.decode.NativeViews;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.block.AttentionLayout;
import io.peft4j.core.model.block.CachedKeyValues;
import io.peft4j.core.model.block.KeyValues;
import io.peft4j.core.model.block.PrefixKeyValues;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Keys and values of a {@link LlamaModel}: per layer one preallocated buffer {@code [rowCapacity, kvHeads,
 * capacity, D]} that new positions are copied into, so a generation step allocates nothing that grows with the
 * context (capacity doubles when full, or is set once by {@link #reserve}). The live rows are the first
 * {@link #batchSize()} rows; the cached positions are the buffer columns {@code [origin, end)}. Buffers are
 * allocated uninitialised (only written positions are ever read), so reserved but unused capacity costs no resident
 * memory. They live in the cache's own manager and are unregistered from the caller's {@code NDScope}, so they
 * survive steps. Inference only: the copies are in place, not differentiable.
 * <p>
 * Rows: {@link #retainRows} moves the kept rows to the front in place and drops leading positions that are padding
 * in every kept row (by moving {@code origin}); {@link #appendRows} copies another cache's rows after the live rows,
 * right-aligned, the shorter side left-padded (mask off, keys and values zero so masked scores stay finite). Both
 * keep positions and the attention bias exact, since {@link AttentionLayout} derives them from the mask alone.
 */
final class LlamaKvCache implements KvCache {
    private static final int INITIAL_CAPACITY = 64;

    private final NDManager manager;
    private final int kvHeads;
    private final int headDim;
    private final NDArray[] keys;   // per layer [rowCapacity, kvHeads, capacity, D]
    private final NDArray[] values; // per layer [rowCapacity, kvHeads, capacity, D]
    private boolean[][] mask;       // [batch][end - origin]
    private int batch;
    private int rowCapacity;
    private int capacity;
    private int origin;
    private int end;
    private int pending;

    LlamaKvCache(NDManager parent, int layers, int batch, int kvHeads, int headDim) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batch);
        }
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.rowCapacity = batch;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.mask = new boolean[batch][0];
    }

    @Override
    public int length() {
        return end - origin;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    /** Grows every layer's buffers to hold {@code positions} in total (no-op when they already do). */
    @Override
    public void reserve(int positions) {
        if (origin + positions > capacity) {
            relayout(rowCapacity, Math.max(positions, capacity), 0);
        }
    }

    /** Starts a forward of {@code tokens} new positions: returns its layout and makes room. */
    AttentionLayout begin(boolean[][] newMask, int tokens) {
        if (batch == 0) {
            throw new IllegalStateException("the cache holds no rows");
        }
        AttentionLayout layout = new AttentionLayout(mask, length(), newMask, batch, tokens);
        ensureCapacity(length() + tokens);
        pending = tokens;
        mask = layout.keyMask();
        return layout;
    }

    /**
     * Copies the new keys and values {@code [B, kvHeads, T, D]} of {@code layer} after the cached positions and
     * returns views {@code [B, kvHeads, length + T, D]} over everything cached.
     */
    KeyValues append(int layer, KeyValues fresh) {
        NDIndex target = new NDIndex(":" + batch + ", :, " + end + ":" + (end + pending));
        keys[layer].set(target, fresh.keys());
        values[layer].set(target, fresh.values());
        return views(layer, end + pending);
    }

    /**
     * The fused decode path's append: one new position per row, keys and values as Java arrays {@code [B, kvHeads,
     * D]} (row-major), written straight into the buffers through direct views of their memory; returns those views
     * over everything cached, the new position included.
     *
     * @throws IllegalStateException when the engine gives copies instead of views (see {@link NativeViews#alias})
     */
    CachedKeyValues appendRow(int layer, float[] newKeys, float[] newValues) {
        if (pending != 1) {
            throw new IllegalStateException("appendRow writes one pending position, " + pending + " are pending");
        }
        ByteBuffer k = NativeViews.of(keys[layer]);
        ByteBuffer v = NativeViews.of(values[layer]);
        if (k == null || v == null) {
            throw new IllegalStateException("the engine returned a copy, not a view, of a cache buffer");
        }
        CachedKeyValues kv = new CachedKeyValues(k, v, kvHeads, headDim, capacity, origin, end + 1 - origin);
        FloatBuffer kf = k.asFloatBuffer();
        FloatBuffer vf = v.asFloatBuffer();
        for (int r = 0; r < batch; r++) {
            for (int h = 0; h < kvHeads; h++) {
                int from = (r * kvHeads + h) * headDim;
                int to = kv.offset(r, h, end - origin);
                kf.put(to, newKeys, from, headDim);
                vf.put(to, newValues, from, headDim);
            }
        }
        return kv;
    }


    /**
     * Writes {@code prefix} (prefix tuning's keys and values, the same for every row) as the first positions of an
     * empty cache: real positions every later token attends to.
     */
    void seedPrefix(PrefixKeyValues prefix) {
        if (length() != 0 || pending != 0) {
            throw new IllegalStateException("an attention prefix goes into an empty cache, this one holds "
                    + length() + " positions");
        }
        int p = prefix.length();
        begin(prefix.realPositions(batch), p);
        for (int l = 0; l < keys.length; l++) {
            try (NDScope scope = new NDScope()) {
                append(l, prefix.forBatch(l, batch));
            }
        }
        commit();
    }

    /** Everything cached for {@code layer}: views {@code [B, kvHeads, length, D]} (for tests and inspection). */
    KeyValues cached(int layer) {
        return views(layer, end);
    }

    /** Views of the live rows' keys and values of {@code layer}, buffer columns {@code [origin, to)}. */
    private KeyValues views(int layer, int to) {
        NDIndex all = new NDIndex(":" + batch + ", :, " + origin + ":" + to);
        return new KeyValues(keys[layer].get(all), values[layer].get(all));
    }

    /** Ends the forward started by {@link #begin}. */
    void commit() {
        end += pending;
        pending = 0;
    }

    /**
     * Keeps rows {@code rows} (strictly increasing, so the in-place moves never overwrite a row still to be read) and
     * forgets leading positions that are padding in every kept row.
     */
    @Override
    public void retainRows(int... rows) {
        checkIdle();
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= batch || (i > 0 && rows[i] <= rows[i - 1])) {
                throw new IllegalArgumentException("rows must be strictly increasing in [0, " + batch + "), got "
                        + Arrays.toString(rows));
            }
        }
        int length = length();
        boolean[][] kept = new boolean[rows.length][];
        int trim = length;
        for (int i = 0; i < rows.length; i++) {
            kept[i] = mask[rows[i]];
            int first = 0;
            while (first < length && !kept[i][first]) {
                first++;
            }
            trim = Math.min(trim, first);
        }
        String used = ", :, " + (origin + trim) + ":" + end;
        for (int i = 0; i < rows.length && keys[0] != null && trim < length; i++) {
            if (rows[i] != i) {
                NDIndex to = new NDIndex(i + used);
                NDIndex from = new NDIndex(rows[i] + used);
                for (int l = 0; l < keys.length; l++) {
                    copy(keys[l], to, keys[l], from);
                    copy(values[l], to, values[l], from);
                }
            }
        }
        for (int i = 0; i < rows.length; i++) {
            kept[i] = Arrays.copyOfRange(kept[i], trim, length);
        }
        mask = kept;
        batch = rows.length;
        origin = rows.length == 0 ? end : origin + trim;
    }

    /**
     * Appends the rows of {@code other} (another cache of this model; unchanged) after the live rows, both
     * right-aligned on the last position: the shorter side gets left padding.
     */
    @Override
    public void appendRows(KvCache other) {
        if (!(other instanceof LlamaKvCache o) || o == this || o.keys.length != keys.length || o.kvHeads != kvHeads
                || o.headDim != headDim) {
            throw new IllegalArgumentException("can only append the rows of another cache of the same model");
        }
        checkIdle();
        o.checkIdle();
        int mine = length();
        int theirs = o.length();
        int length = Math.max(mine, theirs);
        int rows = batch + o.batch;
        if (rows > rowCapacity || end - length < 0 || keys[0] == null) {
            int newRows = Math.max(rows, Math.min(2 * rowCapacity, rows + 8));
            int newCapacity = Math.max(INITIAL_CAPACITY, capacity);
            while (newCapacity < length + 1) {
                newCapacity *= 2;
            }
            relayout(newRows, newCapacity, length - mine);
        }
        int from = end - length;
        for (int l = 0; l < keys.length && o.batch > 0; l++) {
            if (from < origin && batch > 0) {
                zero(l, "0:" + batch, from, origin);
            }
            zero(l, batch + ":" + rows, from, end - theirs);
            if (theirs > 0) {
                NDIndex source = new NDIndex(":" + o.batch + ", :, " + o.origin + ":" + o.end);
                NDIndex target = new NDIndex(batch + ":" + rows + ", :, " + (end - theirs) + ":" + end);
                copy(keys[l], target, o.keys[l], source);
                copy(values[l], target, o.values[l], source);
            }
        }
        boolean[][] merged = new boolean[rows][length];
        for (int r = 0; r < rows; r++) {
            boolean[] row = r < batch ? mask[r] : o.mask[r - batch];
            System.arraycopy(row, 0, merged[r], length - row.length, row.length);
        }
        mask = merged;
        batch = rows;
        origin = from;
    }

    private void zero(int layer, String rows, int fromColumn, int toColumn) {
        if (fromColumn < toColumn) {
            NDIndex pad = new NDIndex(rows + ", :, " + fromColumn + ":" + toColumn);
            keys[layer].set(pad, 0f);
            values[layer].set(pad, 0f);
        }
    }

    private static void copy(NDArray target, NDIndex at, NDArray source, NDIndex from) {
        NDArray part = source.get(from);
        target.set(at, part);
        part.close();
    }

    private void checkIdle() {
        if (pending != 0) {
            throw new IllegalStateException("rows cannot change during a forward");
        }
    }

    private void ensureCapacity(int needed) {
        if (origin + needed <= capacity) {
            return;
        }
        int newCapacity = Math.max(INITIAL_CAPACITY, capacity);
        while (newCapacity < needed || (origin > 0 && newCapacity < needed + needed / 2)) {
            newCapacity *= 2;   // after rows were dropped, keep room so the next shift is not one step away
        }
        relayout(rowCapacity, newCapacity, 0);
    }

    /**
     * Moves the live rows' cached positions into fresh buffers {@code [newRows, kvHeads, newCapacity, D]} at
     * column {@code shift} (the columns before it are left for padding).
     */
    private void relayout(int newRows, int newCapacity, int shift) {
        int length = length();
        for (int l = 0; l < keys.length; l++) {
            keys[l] = moved(keys[l], newRows, newCapacity, shift, length);
            values[l] = moved(values[l], newRows, newCapacity, shift, length);
        }
        rowCapacity = newRows;
        capacity = newCapacity;
        origin = shift;
        end = shift + length;
    }

    private NDArray moved(NDArray old, int newRows, int newCapacity, int shift, int length) {
        NDArray fresh = manager.create(new Shape(newRows, kvHeads, newCapacity, headDim)); // uninitialised
        NDScope.unregister(fresh);
        if (old != null) {
            if (length > 0 && batch > 0) {
                copy(fresh, new NDIndex(":" + batch + ", :, " + shift + ":" + (shift + length)), old,
                        new NDIndex(":" + batch + ", :, " + origin + ":" + end));
            }
            old.close();
        }
        return fresh;
    }

    @Override
    public void reset() {
        origin = 0;
        end = 0;
        pending = 0;
        mask = new boolean[batch][0];
    }

    @Override
    public void close() {
        Arrays.fill(keys, null);
        Arrays.fill(values, null);
        manager.close();
    }
}
