package io.peft4j.core.generate;

/**
 * Token-weighted mean negative log-likelihood (nats) and its perplexity {@code exp(loss)}.
 *
 * <pre>{@code
 * EvalResult r = new PerplexityEvaluator(model, tokenizer).evaluate(Path.of("valid.jsonl"), 512, 256);
 * System.out.printf("loss %.4f ppl %.2f over %d tokens%n", r.loss(), r.perplexity(), r.tokens());
 * }</pre>
 *
 * @param loss       mean NLL per predicted token
 * @param perplexity {@code exp(loss)}
 * @param tokens     tokens predicted (each scored once)
 *
 * @since 0.1.0
 */
public record EvalResult(double loss, double perplexity, long tokens) {
    public EvalResult {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must be >= 0, got " + tokens);
        }
    }
}
