package io.peft4j.core.train;

import java.util.Arrays;

/**
 * One tokenized training record: {@code inputIds} and {@code labels} of the same length, where a label of
 * {@value #IGNORE} (prompt tokens, padding) is left out of the loss. Labels are NOT shifted: the trainer predicts
 * {@code labels[t + 1]} from position {@code t}, as Hugging Face causal-LM training does.
 *
 * <pre>{@code
 * int[] ids = tokenizer.encode(prompt + completion);
 * int[] labels = ids.clone(); Arrays.fill(labels, 0, promptLength, Example.IGNORE);
 * Example ex = new Example(ids, labels);
 * }</pre>
 *
 * @since 0.1.0
 */
public record Example(int[] inputIds, int[] labels) {
    /** Label value that is not trained on (PyTorch's {@code ignore_index}). */
    public static final int IGNORE = -100;

    public Example {
        if (inputIds == null || labels == null || inputIds.length == 0) {
            throw new IllegalArgumentException("example needs non-empty inputIds and labels");
        }
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("example inputIds (" + inputIds.length + ") and labels ("
                    + labels.length + ") differ in length");
        }
    }

    /** Every token is a label (plain language-model training). */
    public static Example unmasked(int[] inputIds) {
        return new Example(inputIds, inputIds.clone());
    }

    /** Tokens that contribute to the loss (labels after the first position that are not {@link #IGNORE}). */
    public int trainedTokens() {
        int n = 0;
        for (int t = 1; t < labels.length; t++) {
            if (labels[t] != IGNORE) {
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && Arrays.equals(inputIds, e.inputIds) && Arrays.equals(labels, e.labels);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "Example[" + inputIds.length + " tokens, " + trainedTokens() + " trained]";
    }
}
