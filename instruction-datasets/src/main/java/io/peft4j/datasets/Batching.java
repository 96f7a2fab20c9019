package io.peft4j.datasets;

import io.peft4j.core.train.TrainingBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Orders examples into batches and collates them into the {@link TrainingBatch} layout training consumes. {@link #lengthGrouped} follows transformers' {@code LengthGroupedSampler}:
 * shuffle from the seed, cut into mega-batches of 50 batches, sort each by length (longest first) and slice, so
 * batches hold similar lengths and padding stays small while the order stays random. Deterministic from the seed.
 *
 * <pre>{@code
 * List<List<TrainingExample>> groups = Batching.lengthGrouped(train, 8, 42);
 * TrainingBatch first = Batching.collate(groups.get(0), tokenizer.padTokenId(), 8);
 * List<List<TrainingExample>> plain = Batching.sequential(train, 8);
 * }</pre>
 * Stateless and thread-safe.
 *
 * @since 0.1.0
 */
public final class Batching {
    /** Batches per mega-batch, as in transformers. */
    public static final int MEGA_BATCH = 50;

    private Batching() {
    }

    /** Consecutive batches of {@code batchSize} in input order (the last may be smaller). */
    public static <T> List<List<T>> sequential(List<T> items, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
        }
        List<List<T>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += batchSize) {
            out.add(List.copyOf(items.subList(i, Math.min(items.size(), i + batchSize))));
        }
        return out;
    }

    /**
     * One batch of {@code examples} (unpacked or {@link Packing packed} rows), right-padded to the longest row
     * rounded up to a multiple of {@code padToMultipleOf}: see {@link TrainingBatch#of}.
     */
    public static TrainingBatch collate(List<TrainingExample> examples, int padId, int padToMultipleOf) {
        return TrainingBatch.of(examples.stream().map(TrainingExample::forTrainer).toList(), padId, padToMultipleOf);
    }

    /** Length-grouped batches (see the class comment). */
    public static List<List<TrainingExample>> lengthGrouped(List<TrainingExample> examples, int batchSize, long seed) {
        List<TrainingExample> shuffled = Split.shuffled(examples, seed);
        List<List<TrainingExample>> out = new ArrayList<>();
        for (List<TrainingExample> mega : sequential(shuffled, batchSize * MEGA_BATCH)) {
            List<TrainingExample> sorted = new ArrayList<>(mega);
            sorted.sort(Comparator.comparingInt(TrainingExample::length).reversed());
            out.addAll(sequential(sorted, batchSize));
        }
        return out;
    }
}
