package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Summed next-token cross-entropy over label-masked tokens: position t predicts {@code labels[t + 1]}. */
final class CausalLmLoss {
    private CausalLmLoss() {
    }

    /**
     * Σ −log softmax(logits[b, t])[labels[b, t+1]] over targets that are not {@link Example#IGNORE}.
     *
     * @param logits [B, T, V]
     * @param labels B rows of T labels (unshifted)
     */
    static NDArray sum(NDArray logits, int[][] labels, NDManager manager) {
        int b = labels.length;
        int t = labels[0].length;
        long vocab = logits.getShape().get(2);
        long[] target = new long[b * t];
        float[] weight = new float[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j + 1 < t; j++) {
                int y = labels[i][j + 1];
                if (y != Example.IGNORE) {
                    if (y < 0 || y >= vocab) {
                        throw new IllegalArgumentException("label " + y + " outside vocabulary of " + vocab);
                    }
                    target[i * t + j] = y;
                    weight[i * t + j] = 1f;
                }
            }
        }
        NDArray idx = manager.create(target, new Shape((long) b * t, 1));
        NDArray w = manager.create(weight, new Shape((long) b * t));
        NDArray logp = logits.reshape(-1, vocab).logSoftmax(-1);
        NDArray picked = logp.gather(idx, 1).reshape(-1);
        return picked.mul(w).sum().neg();
    }

    /** Number of trained targets in {@code labels} (same rule as {@link #sum}). */
    static int count(int[][] labels) {
        int n = 0;
        for (int[] row : labels) {
            for (int j = 1; j < row.length; j++) {
                if (row[j] != Example.IGNORE) {
                    n++;
                }
            }
        }
        return n;
    }
}
