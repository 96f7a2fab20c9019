package io.peft4j.core.train;

import java.nio.file.Path;

/**
 * Observes a {@link Trainer} run (progress, metrics files, early stopping in user code). Methods are called on the
 * training thread between steps; keep them quick. All have empty defaults.
 *
 * <pre>{@code
 * trainer.addListener(new ProgressPrinter(System.err, 10));
 * trainer.addListener(new MetricsJsonlWriter(out.resolve("metrics.jsonl")));
 * }</pre>
 *
 * @since 0.1.0
 */
public interface TrainingListener {

    default void onStep(StepMetrics metrics) {
    }

    default void onEval(EvalMetrics metrics) {
    }

    default void onCheckpoint(int step, Path dir) {
    }

    default void onEnd(TrainingResult result) {
    }
}
