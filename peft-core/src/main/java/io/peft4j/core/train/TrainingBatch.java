package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * The one batch layout training consumes: rows right-padded to the longest one (dynamic padding), optionally to a
 * multiple of {@code padToMultipleOf}, with the pad id in {@code inputIds}, {@value Example#IGNORE} in
 * {@code labels} and 0 in the attention mask and position ids. The attention mask holds each token's 1-based
 * sequence number, so a packed row ({@link Example#isPacked()}) keeps its block-diagonal layout. Built by the
 * {@link Trainer} and by {@code io.peft4j.datasets.Batching}.
 *
 * <pre>{@code
 * TrainingBatch b = TrainingBatch.of(examples.subList(0, 8), tokenizer.padTokenId(), 8);
 * int[][] ids = b.inputIds();     // [8, seq]
 * int trained = b.trainedTokens();
 * }</pre>
 * Immutable by convention (arrays are shared, do not modify). Thread-safe.
 *
 * @param inputIds      [batch, seq]
 * @param labels        [batch, seq], unshifted
 * @param attentionMask [batch, seq]; 0 = padding, else the 1-based sequence number (1 for unpacked rows)
 * @param positionIds   [batch, seq]
 *
 * @since 0.1.0
 */
public record TrainingBatch(int[][] inputIds, int[][] labels, int[][] attentionMask, int[][] positionIds) {

    public TrainingBatch {
        if (inputIds.length == 0 || labels.length != inputIds.length || attentionMask.length != inputIds.length
                || positionIds.length != inputIds.length) {
            throw new IllegalArgumentException("a batch needs at least one row and as many labels, mask and "
                    + "position rows as id rows (" + inputIds.length + ")");
        }
        int seq = inputIds[0].length;
        for (int r = 0; r < inputIds.length; r++) {
            if (inputIds[r].length != seq || labels[r].length != seq || attentionMask[r].length != seq
                    || positionIds[r].length != seq) {
                throw new IllegalArgumentException("batch row " + r + " is not " + seq + " tokens long in every field");
            }
        }
    }

    /** Collates {@code rows} (see the class comment). */
    public static TrainingBatch of(List<Example> rows, int padId, int padToMultipleOf) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one example");
        }
        if (padToMultipleOf < 1) {
            throw new IllegalArgumentException("padToMultipleOf must be >= 1, was " + padToMultipleOf);
        }
        int longest = rows.stream().mapToInt(e -> e.inputIds().length).max().orElseThrow();
        int seq = (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        int n = rows.size();
        int[][] ids = new int[n][seq];
        int[][] labels = new int[n][seq];
        int[][] mask = new int[n][seq];
        int[][] pos = new int[n][seq];
        for (int b = 0; b < n; b++) {
            Example e = rows.get(b);
            int len = e.inputIds().length;
            Arrays.fill(ids[b], padId);
            Arrays.fill(labels[b], Example.IGNORE);
            System.arraycopy(e.inputIds(), 0, ids[b], 0, len);
            System.arraycopy(e.labels(), 0, labels[b], 0, len);
            System.arraycopy(e.attentionMask(), 0, mask[b], 0, len);
            System.arraycopy(e.positionIds(), 0, pos[b], 0, len);
        }
        return new TrainingBatch(ids, labels, mask, pos);
    }

    public int size() {
        return inputIds.length;
    }

    public int seqLen() {
        return inputIds[0].length;
    }

    /** Non-padding tokens. */
    public int realTokens() {
        int n = 0;
        for (int[] row : attentionMask) {
            for (int m : row) {
                n += m == 0 ? 0 : 1;
            }
        }
        return n;
    }

    /**
     * Whether position {@code t} of row {@code row} is a loss target: position {@code t - 1} predicts it, its
     * label is not {@value Example#IGNORE} and it belongs to the same sequence as {@code t - 1}.
     */
    public boolean isTarget(int row, int t) {
        return t > 0 && labels[row][t] != Example.IGNORE && attentionMask[row][t] == attentionMask[row][t - 1];
    }

    /** Loss targets in the batch (see {@link #isTarget}). */
    public int trainedTokens() {
        int n = 0;
        for (int r = 0; r < size(); r++) {
            for (int t = 1; t < seqLen(); t++) {
                n += isTarget(r, t) ? 1 : 0;
            }
        }
        return n;
    }

    /** Whether any token is padding. */
    public boolean isPadded() {
        return Arrays.stream(attentionMask).flatMapToInt(Arrays::stream).anyMatch(m -> m == 0);
    }

    /** Whether any row holds several sequences. */
    public boolean isPacked() {
        return Arrays.stream(attentionMask).flatMapToInt(Arrays::stream).anyMatch(m -> m > 1);
    }

    /** Token ids {@code [B, T]} int64. */
    public NDArray inputIdsArray(NDManager manager) {
        return manager.create(flat(inputIds), new Shape(size(), seqLen()));
    }

    /** The attention mask {@code [B, T]} int64, or {@code null} when no token is padding and no row is packed. */
    public NDArray attentionMaskArray(NDManager manager) {
        return isPadded() || isPacked() ? manager.create(flat(attentionMask), new Shape(size(), seqLen())) : null;
    }

    /**
     * Position ids {@code [B, T]} int64 of packed batches, or {@code null} for unpacked ones (the model then counts
     * real tokens itself, which gives the same positions).
     */
    public NDArray positionIdsArray(NDManager manager) {
        return isPacked() ? manager.create(flat(positionIds), new Shape(size(), seqLen())) : null;
    }

    private static long[] flat(int[][] rows) {
        long[] out = new long[rows.length * rows[0].length];
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < rows[r].length; c++) {
                out[r * rows[r].length + c] = rows[r][c];
            }
        }
        return out;
    }
}
