package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.adapter.PeftModel;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a {@link Trainer} minimises: how the rows of a step are grouped, collated and turned into a loss. The default
 * is {@link CrossEntropyObjective} (supervised fine-tuning); preference objectives (DPO, IPO, hinge, ORPO in
 * {@code io.peft4j.core.train.preference}) keep a chosen and a rejected row together as one item and compare them.
 * The Trainer calls, per optimizer step: {@link #begin} with the rows of every micro-batch, then for each micro-batch
 * {@link Step#batch} and {@link Step#lossOf} (outside the gradient collector, so no-gradient work such as a
 * reference forward happens there) and backward through the returned loss function; then {@link Step#metrics}.
 * Evaluation calls {@link #begin} over all eval micro-batches and forwards without gradients.
 *
 * <pre>{@code
 * TrainingObjective dpo = PreferenceObjective.of(PreferenceConfig.builder().optBeta(0.1).build());
 * try (Trainer t = new Trainer(peft, cfg, dpo)) { t.train(PreferencePair.rows(pairs), List.of()); }
 * }</pre>
 * Implementations may keep state between {@link #prepare} and the steps; one Trainer thread calls them.
 *
 * @since 0.1.0
 */
public interface TrainingObjective {

    /** Consecutive rows forming one item, shuffled and batched together (SFT: 1; a preference pair: 2). */
    default int rowsPerItem() {
        return 1;
    }

    /**
     * Called at the start of {@link Trainer#train} with all training rows (e.g. to precompute reference log-probs).
     *
     * @param itemsPerBatch items per micro-batch of the run
     */
    default void prepare(PeftModel peft, List<Example> rows, int itemsPerBatch, int padId, NDManager manager) {
    }

    /** Whether {@link EvalMetrics#perplexity()} means anything (a token-level cross-entropy loss). */
    default boolean tokenLevel() {
        return false;
    }

    /**
     * Starts one optimizer step (or one evaluation pass) over {@code microBatches}, each holding
     * {@code itemsPerBatch × rowsPerItem()} rows in item order.
     */
    Step begin(PeftModel peft, List<List<Example>> microBatches, int padId, NDManager manager);

    /** One optimizer step (or evaluation pass) of an objective. Lives inside the step's {@code NDScope}. */
    interface Step {
        /** The batch that goes through the model for micro-batch {@code i}. */
        TrainingBatch batch(int i);

        /**
         * The loss of micro-batch {@code i} as a function of its logits {@code [rows, seq, vocab]}: a 0-d array whose
         * sum over the micro-batches is the step's loss. Called outside the gradient collector, before the forward.
         * Returning an {@link io.peft4j.core.model.TokenCrossEntropy} lets the model skip the logits (fused head).
         */
        Function<NDArray, NDArray> lossOf(int i);

        /** Named metrics of the step after every micro-batch ran (trl's names, e.g. {@code rewards/margins}). */
        Map<String, Double> metrics();
    }
}
