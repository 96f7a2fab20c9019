package io.peft4j.core.train;

import java.util.Map;

/**
 * Result of an evaluation pass: the objective's loss (for SFT the mean loss over trained tokens and its perplexity
 * {@code exp(loss)}; for a preference objective the mean pair loss, perplexity NaN) and the objective's named
 * metrics (trl's {@code rewards/accuracies} etc.; empty for SFT).
 *
 * <pre>{@code
 * EvalMetrics m = trainer.evaluate(heldOut);
 * double ppl = m.perplexity();
 * }</pre>
 *
 * @param step       optimizer steps done when evaluated
 * @param loss       mean token loss
 * @param perplexity {@code exp(loss)}
 * @param tokens     trained tokens evaluated
 * @param metrics    the objective's named metrics, e.g. {@code rewards/margins} (empty for SFT)
 *
 * @since 0.1.0
 */
public record EvalMetrics(int step, double loss, double perplexity, long tokens, Map<String, Double> metrics) {
    public EvalMetrics {
        metrics = Map.copyOf(metrics);
    }

    /** Metrics of a token-level (SFT) evaluation, no named metrics. */
    public EvalMetrics(int step, double loss, double perplexity, long tokens) {
        this(step, loss, perplexity, tokens, Map.of());
    }
}
