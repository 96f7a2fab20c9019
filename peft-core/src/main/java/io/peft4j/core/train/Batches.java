package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Deterministic micro-batch order: epoch {@code e} visits the examples in the permutation drawn from
 * {@code seed + e}, so micro-batch number {@code k} depends only on (seed, k) and a resumed run sees the same data.
 */
final class Batches {
    /** One right-padded micro-batch. */
    record Batch(long[] ids, float[] mask, int[][] labels, int rows, int cols, boolean padded, int realTokens) {
        NDArray idsArray(NDManager m) {
            return m.create(ids, new Shape(rows, cols));
        }

        NDArray maskArray(NDManager m) {
            return padded ? m.create(mask, new Shape(rows, cols)) : null;
        }
    }

    private final List<Example> examples;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final int padId;
    private int cachedEpoch = -1;
    private List<Integer> order;

    Batches(List<Example> examples, int batchSize, long seed, boolean shuffle, int padId) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        this.examples = List.copyOf(examples);
        this.batchSize = Math.min(batchSize, examples.size());
        this.seed = seed;
        this.shuffle = shuffle;
        this.padId = padId;
    }

    int perEpoch() {
        return examples.size() / batchSize;   // the last partial batch is dropped so every batch has batchSize rows
    }

    /** Micro-batch number {@code k} (0-based, across epochs). */
    Batch get(long k) {
        int epoch = Math.toIntExact(k / perEpoch());
        int within = Math.toIntExact(k % perEpoch());
        if (epoch != cachedEpoch) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < examples.size(); i++) {
                idx.add(i);
            }
            if (shuffle) {
                Collections.shuffle(idx, new Random(seed + epoch));
            }
            order = idx;
            cachedEpoch = epoch;
        }
        List<Example> rows = new ArrayList<>();
        for (int i = 0; i < batchSize; i++) {
            rows.add(examples.get(order.get(within * batchSize + i)));
        }
        return collate(rows, padId);
    }

    static Batch collate(List<Example> rows, int padId) {
        int cols = rows.stream().mapToInt(e -> e.inputIds().length).max().orElseThrow();
        long[] ids = new long[rows.size() * cols];
        float[] mask = new float[ids.length];
        int[][] labels = new int[rows.size()][cols];
        boolean padded = false;
        int real = 0;
        for (int r = 0; r < rows.size(); r++) {
            Example e = rows.get(r);
            for (int c = 0; c < cols; c++) {
                boolean in = c < e.inputIds().length;
                ids[r * cols + c] = in ? e.inputIds()[c] : padId;
                mask[r * cols + c] = in ? 1f : 0f;
                labels[r][c] = in ? e.labels()[c] : Example.IGNORE;
                padded |= !in;
                real += in ? 1 : 0;
            }
        }
        return new Batch(ids, mask, labels, rows.size(), cols, padded, real);
    }
}
