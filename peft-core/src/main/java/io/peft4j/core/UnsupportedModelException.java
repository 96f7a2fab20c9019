package io.peft4j.core;

/**
 * A checkpoint is well-formed but of an architecture no {@code ModelFamily} on the class path computes (gemma,
 * phi3, gpt2, ...). The message names the checkpoint's {@code model_type} and architecture and lists the
 * supported families.
 *
 * @since 0.1.0
 */
public class UnsupportedModelException extends PeftException {
    private static final long serialVersionUID = 1L;

    public UnsupportedModelException(String message) {
        super(message);
    }
}
