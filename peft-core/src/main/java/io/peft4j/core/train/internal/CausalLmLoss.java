package io.peft4j.core.train.internal;

import io.peft4j.core.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Summed next-token cross-entropy over the loss targets of a {@link TrainingBatch}: position t predicts
 * {@code labels[t + 1]} unless that label is ignored or starts another packed sequence.
 */
public final class CausalLmLoss {
    private CausalLmLoss() {
    }

    /**
     * Σ −log softmax(logits[b, t])[labels[b, t+1]] over the targets of {@link TrainingBatch#isTarget}.
     *
     * @param logits [B, T, V]
     */
    public static NDArray sum(NDArray logits, TrainingBatch batch, NDManager manager) {
        int b = batch.size();
        int t = batch.seqLen();
        long vocab = logits.getShape().get(2);
        long[] target = new long[b * t];
        float[] weight = new float[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j + 1 < t; j++) {
                if (batch.isTarget(i, j + 1)) {
                    int y = batch.labels()[i][j + 1];
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
}
