package io.peft4j.core.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Deterministic micro-batch order: epoch {@code e} visits the rows in the permutation drawn from
 * {@code seed + e}, so micro-batch number {@code k} depends only on (seed, k) and a resumed run sees the same data.
 * Rows may be packed. With {@code rowsPerItem > 1} (a preference pair) the permutation moves whole items of that
 * many consecutive rows, so an item is never split.
 */
final class BatchOrder {
    private final List<Example> examples;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final int padId;
    private final int rowsPerItem;
    private int cachedEpoch = -1;
    private List<Integer> order;

    BatchOrder(List<Example> examples, int batchSize, long seed, boolean shuffle, int padId) {
        this(examples, batchSize, seed, shuffle, padId, 1);
    }

    /** {@code batchSize} counts items of {@code rowsPerItem} consecutive rows. */
    BatchOrder(List<Example> examples, int batchSize, long seed, boolean shuffle, int padId, int rowsPerItem) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        if (examples.size() % rowsPerItem != 0) {
            throw new IllegalArgumentException(examples.size() + " rows do not form items of " + rowsPerItem
                    + " rows each");
        }
        this.examples = List.copyOf(examples);
        this.rowsPerItem = rowsPerItem;
        this.batchSize = Math.min(batchSize, examples.size() / rowsPerItem);
        this.seed = seed;
        this.shuffle = shuffle;
        this.padId = padId;
    }

    int perEpoch() {
        return examples.size() / rowsPerItem / batchSize;   // the last partial batch is dropped so every batch has batchSize rows
    }

    /** Micro-batch number {@code k} (0-based, across epochs). */
    TrainingBatch get(long k) {
        return TrainingBatch.of(rows(k), padId, 1);
    }

    /** The rows of micro-batch {@code k}, whole items in permutation order. */
    List<Example> rows(long k) {
        int epoch = Math.toIntExact(k / perEpoch());
        int within = Math.toIntExact(k % perEpoch());
        if (epoch != cachedEpoch) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < examples.size() / rowsPerItem; i++) {
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
            int item = order.get(within * batchSize + i);
            rows.addAll(examples.subList(item * rowsPerItem, (item + 1) * rowsPerItem));
        }
        return rows;
    }
}
