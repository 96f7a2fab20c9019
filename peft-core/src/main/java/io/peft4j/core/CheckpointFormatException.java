package io.peft4j.core;

import java.nio.file.Path;

/**
 * A checkpoint file (safetensors, GGUF, config.json) is malformed, truncated or hostile.
 * The message always names the file and, where known, the tensor or field and the byte offset.
 *
 * @since 0.1.0
 */
public class CheckpointFormatException extends PeftException {
    private static final long serialVersionUID = 1L;

    public CheckpointFormatException(Path file, String detail) {
        super(file + ": " + detail);
    }

    public CheckpointFormatException(Path file, String tensor, String detail) {
        super(file + ": tensor '" + tensor + "': " + detail);
    }

    public CheckpointFormatException(Path file, String detail, Throwable cause) {
        super(file + ": " + detail, cause);
    }
}
