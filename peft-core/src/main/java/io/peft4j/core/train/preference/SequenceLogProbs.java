package io.peft4j.core.train.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.TrainingBatch;

/**
 * Per-row log-probabilities of a batch's tokens under its logits: position t scores token t+1. {@link #answer} sums
 * over the loss targets (the answer tokens, {@link TrainingBatch#isTarget}); {@link #all} over every real next token
 * (ORPO's NLL includes the prompt). Stateless.
 */
final class SequenceLogProbs {
    /** Per-row sums {@code [rows]} and the token counts they cover. */
    record Sums(NDArray sums, float[] counts) {
    }

    private SequenceLogProbs() {
    }

    /** log-softmax of {@code logits [R, T, V]} gathered at the next token: {@code [R, T]} (last column 0). */
    static NDArray tokenLogProbs(NDArray logits, TrainingBatch b, NDManager m) {
        int rows = b.size();
        int t = b.seqLen();
        long vocab = logits.getShape().get(2);
        long[] next = new long[rows * t];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j + 1 < t; j++) {
                int y = b.inputIds()[r][j + 1];
                if (y < 0 || y >= vocab) {
                    throw new IllegalArgumentException("token " + y + " outside vocabulary of " + vocab);
                }
                next[r * t + j] = y;
            }
        }
        NDArray idx = m.create(next, new Shape((long) rows * t, 1));
        return logits.reshape(-1, vocab).logSoftmax(-1).gather(idx, 1).reshape(rows, t);
    }

    /** Sums over the answer tokens (loss targets) of each row. */
    static Sums answer(NDArray tokenLogps, TrainingBatch b, NDManager m) {
        return masked(tokenLogps, b, m, true);
    }

    /** Sums over every real next token of each row (prompt included). */
    static Sums all(NDArray tokenLogps, TrainingBatch b, NDManager m) {
        return masked(tokenLogps, b, m, false);
    }

    private static Sums masked(NDArray tokenLogps, TrainingBatch b, NDManager m, boolean answerOnly) {
        int rows = b.size();
        int t = b.seqLen();
        float[] w = new float[rows * t];
        float[] counts = new float[rows];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j + 1 < t; j++) {
                boolean take = answerOnly ? b.isTarget(r, j + 1)
                        : b.attentionMask()[r][j + 1] != 0 && b.attentionMask()[r][j + 1] == b.attentionMask()[r][j];
                if (take) {
                    w[r * t + j] = 1f;
                    counts[r]++;
                }
            }
        }
        NDArray weights = m.create(w, new Shape(rows, t));
        return new Sums(tokenLogps.mul(weights).sum(new int[] {1}), counts);
    }

    /** Answer tokens of each row as trl's {@code completion_mask} counts them (labels not ignored). */
    static float[] answerLengths(TrainingBatch b) {
        float[] n = new float[b.size()];
        for (int r = 0; r < b.size(); r++) {
            for (int label : b.labels()[r]) {
                n[r] += label == Example.IGNORE ? 0 : 1;
            }
        }
        return n;
    }
}
