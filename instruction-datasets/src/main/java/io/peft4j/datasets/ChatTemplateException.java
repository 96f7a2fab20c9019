package io.peft4j.datasets;

import io.peft4j.core.PeftException;

/**
 * A chat template that cannot render a conversation: the template raised an error ({@code raise_exception}, e.g.
 * "roles must alternate"), has a syntax error, or renders assistant turns in a way that cannot be masked.
 *
 * <pre>{@code
 * try { template.render(conversation, false); }
 * catch (ChatTemplateException e) { log.warn("skipping: {}", e.getMessage()); }
 * }</pre>
 *
 * @since 0.1.0
 */
public class ChatTemplateException extends PeftException {
    private static final long serialVersionUID = 1L;

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
