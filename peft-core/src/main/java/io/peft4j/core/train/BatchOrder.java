package io.peft4j.core.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Deterministic micro-batch order: epoch {@code e} visits the rows in the permutation drawn from
 * {@code seed + e}, so micro-batch number {@code k} depends only on (seed, k) and a resumed run sees the same data.
 * Rows may be packed; each micro-batch is collated by {@link TrainingBatch#of}.
 */
final class BatchOrder {
    private final List<Example> examples;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final int padId;
    private int cachedEpoch = -1;
    private List<Integer> order;

    BatchOrder(List<Example> examples, int batchSize, long seed, boolean shuffle, int padId) {
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
    TrainingBatch get(long k) {
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
        return TrainingBatch.of(rows, padId, 1);
    }
}
