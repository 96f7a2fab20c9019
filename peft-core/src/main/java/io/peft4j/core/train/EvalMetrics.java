package io.peft4j.core.train;

/**
 * Result of an evaluation pass: mean loss over trained tokens and its perplexity {@code exp(loss)}.
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
 *
 * @since 0.1.0
 */
public record EvalMetrics(int step, double loss, double perplexity, long tokens) {
}
