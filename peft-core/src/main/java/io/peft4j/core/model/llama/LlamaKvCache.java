package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.block.AttentionLayout;
import io.peft4j.core.model.block.KeyValues;

import java.util.Arrays;

/**
 * Keys and values of a {@link LlamaModel}: per layer one preallocated buffer {@code [B, kvHeads, capacity, D]}
 * that new positions are copied into, so a generation step allocates nothing that grows with the context
 * (capacity doubles when full, or is set once by {@link #reserve}). Buffers are allocated uninitialised (only
 * written positions are ever read), so reserved but unused capacity costs no resident memory. They live in the
 * cache's own manager and are unregistered from the caller's {@code NDScope}, so they survive steps. Inference
 * only: the copies are in place, not differentiable.
 */
final class LlamaKvCache implements KvCache {
    private static final int INITIAL_CAPACITY = 64;

    private final NDManager manager;
    private final int batch;
    private final int kvHeads;
    private final int headDim;
    private final NDArray[] keys;   // per layer [B, kvHeads, capacity, D]
    private final NDArray[] values; // per layer [B, kvHeads, capacity, D]
    private boolean[][] mask = new boolean[0][0]; // [B][length]
    private int capacity;
    private int length;
    private int pending;

    LlamaKvCache(NDManager parent, int layers, int batch, int kvHeads, int headDim) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batch);
        }
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.mask = new boolean[batch][0];
    }

    @Override
    public int length() {
        return length;
    }

    int batch() {
        return batch;
    }

    /** Grows every layer's buffers to hold {@code positions} in total (no-op when they already do). */
    @Override
    public void reserve(int positions) {
        if (positions > capacity) {
            resize(positions);
        }
    }

    /** Starts a forward of {@code tokens} new positions: returns its layout and makes room. */
    AttentionLayout begin(boolean[][] newMask, int tokens) {
        AttentionLayout layout = new AttentionLayout(mask, length, newMask, batch, tokens);
        ensureCapacity(length + tokens);
        pending = tokens;
        mask = layout.keyMask();
        return layout;
    }

    /**
     * Copies the new keys and values {@code [B, kvHeads, T, D]} of {@code layer} after the cached positions and
     * returns views {@code [B, kvHeads, length + T, D]} over everything cached.
     */
    KeyValues append(int layer, KeyValues fresh) {
        NDArray k = fresh.keys();
        NDArray v = fresh.values();
        NDIndex target = new NDIndex(":, :, " + length + ":" + (length + pending));
        keys[layer].set(target, k);
        values[layer].set(target, v);
        NDIndex all = new NDIndex(":, :, :" + (length + pending));
        return new KeyValues(keys[layer].get(all), values[layer].get(all));
    }

    /** Ends the forward started by {@link #begin}. */
    void commit() {
        length += pending;
        pending = 0;
    }

    private void ensureCapacity(int needed) {
        if (needed <= capacity) {
            return;
        }
        int newCapacity = Math.max(INITIAL_CAPACITY, capacity);
        while (newCapacity < needed) {
            newCapacity *= 2;
        }
        resize(newCapacity);
    }

    private void resize(int newCapacity) {
        for (int l = 0; l < keys.length; l++) {
            keys[l] = grow(keys[l], newCapacity);
            values[l] = grow(values[l], newCapacity);
        }
        capacity = newCapacity;
    }

    private NDArray grow(NDArray old, int newCapacity) {
        NDArray fresh = manager.create(new Shape(batch, kvHeads, newCapacity, headDim)); // uninitialised
        NDScope.unregister(fresh);
        if (old != null) {
            if (length > 0) {
                NDIndex used = new NDIndex(":, :, :" + length);
                fresh.set(used, old.get(used));
            }
            old.close();
        }
        return fresh;
    }

    @Override
    public void reset() {
        length = 0;
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
