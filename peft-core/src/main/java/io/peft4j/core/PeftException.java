package io.peft4j.core;

/**
 * Base of peft4j's checked exceptions: bad files, mismatched adapters, malformed data.
 * Caller mistakes (a negative rank, a null path) are {@link IllegalArgumentException}s instead.
 *
 * @since 0.1.0
 */
public class PeftException extends Exception {
    private static final long serialVersionUID = 1L;

    public PeftException(String message) {
        super(message);
    }

    public PeftException(String message, Throwable cause) {
        super(message, cause);
    }
}
