package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.TokenCrossEntropy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Supervised fine-tuning, the {@link Trainer}'s default {@link TrainingObjective}: next-token cross-entropy over the
 * label-masked tokens, normalised by the trained tokens of the whole accumulated step (so accumulating 2 × batch b
 * equals one batch of 2b). The loss is a {@link TokenCrossEntropy}: models with a fused head (the LLaMA family)
 * never build the {@code [B, T, vocab]} logits in training; only the trained positions go through lm_head, in chunks
 * of {@link #chunkSize()} rows (0: full logits, the unfused path).
 *
 * <pre>{@code
 * Trainer t = new Trainer(peft, cfg, CrossEntropyObjective.INSTANCE);   // same as new Trainer(peft, cfg)
 * Trainer u = new Trainer(peft, cfg, CrossEntropyObjective.withChunkSize(256));   // smaller head chunks
 * }</pre>
 * Immutable and thread-safe.
 *
 * @since 0.1.0
 */
public final class CrossEntropyObjective implements TrainingObjective {
    /** The default: fused head in chunks of {@link TokenCrossEntropy#DEFAULT_CHUNK} rows. */
    public static final CrossEntropyObjective INSTANCE = new CrossEntropyObjective(TokenCrossEntropy.DEFAULT_CHUNK);

    private final int chunkSize;

    private CrossEntropyObjective(int chunkSize) {
        this.chunkSize = chunkSize;
    }

    /**
     * The same objective with lm_head chunks of {@code rows} trained positions (peak logits {@code rows × vocab});
     * 0 computes the full {@code [B, T, vocab]} logits as models without a fused head do.
     */
    public static CrossEntropyObjective withChunkSize(int rows) {
        if (rows < 0) {
            throw new IllegalArgumentException("loss chunk size must be >= 0, got " + rows);
        }
        return rows == TokenCrossEntropy.DEFAULT_CHUNK ? INSTANCE : new CrossEntropyObjective(rows);
    }

    /** Trained positions per lm_head chunk; 0 = full logits. */
    public int chunkSize() {
        return chunkSize;
    }

    @Override
    public boolean tokenLevel() {
        return true;
    }

    @Override
    public Step begin(PeftModel peft, List<List<Example>> microBatches, int padId, NDManager manager) {
        List<TrainingBatch> batches = new ArrayList<>();
        int trained = 0;
        for (List<Example> rows : microBatches) {
            TrainingBatch b = TrainingBatch.of(rows, padId, 1);
            batches.add(b);
            trained += b.trainedTokens();
        }
        // a natively allocated divisor: DJL's div(Number) frees its temporary operand before backward
        NDArray tokens = manager.full(new Shape(), Math.max(1, trained), DataType.FLOAT32);
        return new Step() {
            @Override
            public TrainingBatch batch(int i) {
                return batches.get(i);
            }

            @Override
            public Function<NDArray, NDArray> lossOf(int i) {
                return loss(batches.get(i), tokens, chunkSize);
            }

            @Override
            public Map<String, Double> metrics() {
                return Map.of();
            }
        };
    }

    /**
     * The next-token loss of {@code batch}: position t predicts {@code labels[t + 1]} wherever that is a loss target
     * ({@link TrainingBatch#isTarget}); the sum is divided by {@code divisor}.
     */
    static TokenCrossEntropy loss(TrainingBatch batch, NDArray divisor, int chunkSize) {
        int t = batch.seqLen();
        long[] positions = new long[batch.trainedTokens()];
        long[] targets = new long[positions.length];
        int n = 0;
        for (int r = 0; r < batch.size(); r++) {
            for (int j = 0; j + 1 < t; j++) {
                if (batch.isTarget(r, j + 1)) {
                    positions[n] = (long) r * t + j;
                    targets[n++] = batch.labels()[r][j + 1];
                }
            }
        }
        return new TokenCrossEntropy(java.util.Arrays.copyOf(positions, n), java.util.Arrays.copyOf(targets, n),
                divisor, chunkSize);
    }

    @Override
    public String toString() {
        return "sft";
    }
}
