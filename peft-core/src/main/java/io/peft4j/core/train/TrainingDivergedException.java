package io.peft4j.core.train;

import io.peft4j.core.PeftException;

import java.nio.file.Path;

/**
 * The loss or the gradients became NaN or infinite. The step was not applied; the message names the step and the
 * last good checkpoint (if any), which stays on disk.
 *
 * <pre>{@code
 * try { trainer.train(data, null); }
 * catch (TrainingDivergedException e) { resumeFrom = e.lastGoodCheckpoint(); }
 * }</pre>
 *
 * @since 0.1.0
 */
public class TrainingDivergedException extends PeftException {
    private static final long serialVersionUID = 1L;
    private final transient Path lastGoodCheckpoint;

    public TrainingDivergedException(int step, String what, Path lastGoodCheckpoint) {
        super("training stopped at step " + step + ": " + what + " is not finite (NaN/Inf); "
                + (lastGoodCheckpoint == null ? "no checkpoint was written yet"
                : "last good checkpoint kept at " + lastGoodCheckpoint)
                + ". Try a lower learning rate or gradient clipping.");
        this.lastGoodCheckpoint = lastGoodCheckpoint;
    }

    /** The newest checkpoint written before the divergence, or null. */
    public Path lastGoodCheckpoint() {
        return lastGoodCheckpoint;
    }
}
