package io.peft4j.core.train;

import java.util.List;

/**
 * Summary of a finished {@link Trainer#train} run.
 *
 * <pre>{@code
 * TrainingResult r = trainer.train(train, eval);
 * System.err.printf("%d steps, loss %.3f -> eval %.3f%n", r.steps(), r.trainLoss(), r.evalLoss());
 * }</pre>
 *
 * @param steps           optimizer steps done in total (including steps before a resume)
 * @param trainLoss       mean loss of the last logged window of steps
 * @param evalLoss        last evaluation loss, NaN when there was no eval data
 * @param losses          loss of every step run in this call, in order
 * @param tokensPerSecond input tokens per second over this call
 * @param seconds         wall time of this call
 *
 * @since 0.1.0
 */
public record TrainingResult(int steps, double trainLoss, double evalLoss, List<Double> losses,
                             double tokensPerSecond, double seconds) {
    public TrainingResult {
        losses = List.copyOf(losses);
    }
}
