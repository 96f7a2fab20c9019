package io.peft4j.core.train;

import java.util.Arrays;

/**
 * One tokenized training row: {@code inputIds} and {@code labels} of the same length, where a label of
 * {@value #IGNORE} (prompt tokens, padding) is left out of the loss. Labels are NOT shifted: the trainer predicts
 * {@code labels[t + 1]} from position {@code t}, as Hugging Face causal-LM training does. A row may be packed
 * (several sequences, see {@code io.peft4j.datasets.Packing}): its {@code attentionMask} then holds the 1-based
 * sequence number of each token (0 = padding), its {@code positionIds} restart at 0 for every sequence, and the
 * trainer lets no token attend to, or be trained to predict, another sequence's tokens.
 *
 * <pre>{@code
 * int[] ids = tokenizer.encode(prompt + completion);
 * int[] labels = ids.clone(); Arrays.fill(labels, 0, promptLength, Example.IGNORE);
 * Example ex = new Example(ids, labels);        // mask all 1, positions 0..n-1
 * }</pre>
 * Immutable by convention (arrays are not copied; do not modify them). Thread-safe.
 *
 * @param inputIds      token ids, [seq]
 * @param labels        target ids or {@value #IGNORE}, [seq]
 * @param attentionMask 0 = padding, else the 1-based sequence number, [seq]
 * @param positionIds   position of each token within its sequence, [seq]
 *
 * @since 0.1.0
 */
public record Example(int[] inputIds, int[] labels, int[] attentionMask, int[] positionIds) {
    /** Label value that is not trained on (PyTorch's {@code ignore_index}). */
    public static final int IGNORE = -100;

    public Example {
        if (inputIds == null || labels == null || inputIds.length == 0) {
            throw new IllegalArgumentException("example needs non-empty inputIds and labels");
        }
        if (attentionMask == null || positionIds == null) {
            throw new IllegalArgumentException("example needs attentionMask and positionIds (or use new Example("
                    + "inputIds, labels))");
        }
        int n = inputIds.length;
        if (labels.length != n || attentionMask.length != n || positionIds.length != n) {
            throw new IllegalArgumentException("example lengths differ: inputIds " + n + ", labels " + labels.length
                    + ", attentionMask " + attentionMask.length + ", positionIds " + positionIds.length);
        }
        for (int t = 0; t < n; t++) {
            if (attentionMask[t] < 0 || positionIds[t] < 0) {
                throw new IllegalArgumentException("example attentionMask/positionIds must be >= 0, position " + t
                        + " has " + attentionMask[t] + "/" + positionIds[t]);
            }
        }
    }

    /** An unpacked example: mask all 1, positions 0..n-1. */
    public Example(int[] inputIds, int[] labels) {
        this(inputIds, labels, ones(inputIds), range(inputIds));
    }

    /** Every token is a label (plain language-model training). */
    public static Example unmasked(int[] inputIds) {
        return new Example(inputIds, inputIds.clone());
    }

    /** Tokens that contribute to the loss: targets that are not {@link #IGNORE} and stay in their sequence. */
    public int trainedTokens() {
        int n = 0;
        for (int t = 1; t < labels.length; t++) {
            if (labels[t] != IGNORE && attentionMask[t] == attentionMask[t - 1]) {
                n++;
            }
        }
        return n;
    }

    /** Whether this row holds several sequences (a mask value above 1). */
    public boolean isPacked() {
        for (int m : attentionMask) {
            if (m > 1) {
                return true;
            }
        }
        return false;
    }

    private static int[] ones(int[] ids) {
        int[] m = new int[ids == null ? 0 : ids.length];
        Arrays.fill(m, 1);
        return m;
    }

    private static int[] range(int[] ids) {
        int[] p = new int[ids == null ? 0 : ids.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = i;
        }
        return p;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && Arrays.equals(inputIds, e.inputIds) && Arrays.equals(labels, e.labels)
                && Arrays.equals(attentionMask, e.attentionMask) && Arrays.equals(positionIds, e.positionIds);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * Arrays.hashCode(inputIds) + Arrays.hashCode(labels))
                + Arrays.hashCode(attentionMask)) + Arrays.hashCode(positionIds);
    }

    @Override
    public String toString() {
        return "Example[" + inputIds.length + " tokens, " + trainedTokens() + " trained"
                + (isPacked() ? ", packed" : "") + "]";
    }
}
