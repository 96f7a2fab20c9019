package io.peft4j.core.adapter;

/**
 * Handle returned by {@link PeftModel#disableAdapters()}: while open the model computes base outputs; closing it
 * re-enables the adapters exactly as they were. Close it on the thread that opened it.
 *
 * <pre>{@code
 * try (AdaptersDisabled off = peft.disableAdapters()) {
 *     NDArray baseLogits = peft.forward(ids, null, null);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class AdaptersDisabled implements AutoCloseable {
    private final PeftModel owner;
    private boolean closed;

    AdaptersDisabled(PeftModel owner) {
        this.owner = owner;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.setEnabled(true);
        }
    }
}
