package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.adapter.PeftModel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Supervised fine-tuning, the {@link Trainer}'s default {@link TrainingObjective}: next-token cross-entropy over the
 * label-masked tokens, normalised by the trained tokens of the whole accumulated step (so accumulating 2 × batch b
 * equals one batch of 2b).
 *
 * <pre>{@code
 * Trainer t = new Trainer(peft, cfg, CrossEntropyObjective.INSTANCE);   // same as new Trainer(peft, cfg)
 * }</pre>
 * Stateless and thread-safe.
 *
 * @since 0.1.0
 */
public final class CrossEntropyObjective implements TrainingObjective {
    /** The one instance. */
    public static final CrossEntropyObjective INSTANCE = new CrossEntropyObjective();

    private CrossEntropyObjective() {
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
                TrainingBatch b = batches.get(i);
                return logits -> CausalLmLoss.sum(logits, b, manager).div(tokens);
            }

            @Override
            public Map<String, Double> metrics() {
                return Map.of();
            }
        };
    }

    @Override
    public String toString() {
        return "sft";
    }
}
