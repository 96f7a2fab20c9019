package io.peft4j.core.model;

import io.peft4j.core.ModelConfig;

/**
 * A sequence longer than the model's context window ({@code max_position_embeddings}): a prompt, an evaluation
 * window, a training sequence, or cached plus new tokens. Rotary models compute something past the window, but
 * nothing they were trained for, so peft4j refuses instead of answering with silently degraded text. A bad-input
 * error ({@link IllegalArgumentException}); the message names the tokens and the limit.
 *
 * <pre>{@code
 * try {
 *     ContextWindowException.check(model.config(), prompt.length, "prompt");   // throws when prompt.length > limit
 * } catch (ContextWindowException e) {
 *     int keep = e.limit();   // e.g. keep the last e.limit() tokens
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class ContextWindowException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int tokens;
    private final int limit;

    public ContextWindowException(String what, int tokens, int limit) {
        super(what + " of " + tokens + " tokens exceeds the model's context window of " + limit
                + " tokens (max_position_embeddings)");
        this.tokens = tokens;
        this.limit = limit;
    }

    /** The context window of {@code config}, or {@link Integer#MAX_VALUE} when the checkpoint does not state one. */
    public static int limit(ModelConfig config) {
        return config.maxPositions() > 0 ? config.maxPositions() : Integer.MAX_VALUE;
    }

    /** Throws when {@code tokens} positions do not fit the context window of {@code config}. */
    public static void check(ModelConfig config, int tokens, String what) {
        if (tokens > limit(config)) {
            throw new ContextWindowException(what, tokens, limit(config));
        }
    }

    /** Positions asked for. */
    public int tokens() {
        return tokens;
    }

    /** The context window. */
    public int limit() {
        return limit;
    }
}
