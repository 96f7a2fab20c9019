package io.peft4j.core.checkpoint;

import io.peft4j.core.PeftException;

import java.nio.file.Path;

/**
 * One on-disk model format {@link Checkpoints#open} can read (a GGUF file, a Hugging Face folder). Found by
 * {@link java.util.ServiceLoader} from {@code META-INF/services/io.peft4j.core.checkpoint.CheckpointFormat}, so this
 * package does not depend on the readers' packages.
 * <pre>{@code
 * boolean mine = format.accepts(Path.of("model.gguf"));
 * try (Checkpoint c = format.open(Path.of("model.gguf"))) { ... }
 * }</pre>
 * Implementations are stateless and thread-safe.
 *
 * @since 0.1.0
 */
public interface CheckpointFormat {

    /** Whether {@code path} (which exists) looks like this format, from its name or kind only (no parsing). */
    boolean accepts(Path path);

    /** Opens {@code path}; the caller closes the result. */
    Checkpoint open(Path path) throws PeftException;
}
