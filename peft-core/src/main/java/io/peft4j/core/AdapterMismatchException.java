package io.peft4j.core;

/**
 * An adapter does not fit the base model it is loaded onto (fingerprint or shapes differ).
 *
 * @since 0.1.0
 */
public class AdapterMismatchException extends PeftException {
    private static final long serialVersionUID = 1L;

    public AdapterMismatchException(String message) {
        super(message);
    }
}
