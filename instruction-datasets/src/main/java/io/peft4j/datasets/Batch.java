package io.peft4j.datasets;

import java.util.List;

/**
 * A batch of examples padded on the right to the longest one (dynamic padding), optionally to a multiple of
 * {@code padToMultipleOf}: pad id in {@code inputIds}, {@value TrainingExample#IGNORE} in {@code labels}, 0 in the
 * attention mask and position ids.
 *
 * <pre>{@code
 * Batch b = Batch.of(examples.subList(0, 8), tokenizer.padTokenId(), 8);
 * int[][] ids = b.inputIds();     // [8, seq]
 * int seq = b.seqLen();
 * }</pre>
 * Immutable by convention (arrays are shared, do not modify). Thread-safe.
 *
 * @param inputIds      [batch, seq]
 * @param labels        [batch, seq]
 * @param attentionMask [batch, seq]; 0 = padding, else the sequence number (1 for unpacked rows)
 * @param positionIds   [batch, seq]
 *
 * @since 0.1.0
 */
public record Batch(int[][] inputIds, int[][] labels, int[][] attentionMask, int[][] positionIds) {

    public static Batch of(List<TrainingExample> examples, int padId, int padToMultipleOf) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one example");
        }
        if (padToMultipleOf < 1) {
            throw new IllegalArgumentException("padToMultipleOf must be >= 1, was " + padToMultipleOf);
        }
        int longest = examples.stream().mapToInt(TrainingExample::length).max().orElse(0);
        int seq = (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        int n = examples.size();
        int[][] ids = new int[n][seq];
        int[][] labels = new int[n][seq];
        int[][] mask = new int[n][seq];
        int[][] pos = new int[n][seq];
        for (int b = 0; b < n; b++) {
            TrainingExample e = examples.get(b);
            java.util.Arrays.fill(ids[b], padId);
            java.util.Arrays.fill(labels[b], TrainingExample.IGNORE);
            System.arraycopy(e.inputIds(), 0, ids[b], 0, e.length());
            System.arraycopy(e.labels(), 0, labels[b], 0, e.length());
            System.arraycopy(e.attentionMask(), 0, mask[b], 0, e.length());
            System.arraycopy(e.positionIds(), 0, pos[b], 0, e.length());
        }
        return new Batch(ids, labels, mask, pos);
    }

    public int size() {
        return inputIds.length;
    }

    public int seqLen() {
        return inputIds.length == 0 ? 0 : inputIds[0].length;
    }
}
