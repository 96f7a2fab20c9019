package io.peft4j.core.checkpoint;

import io.peft4j.core.checkpoint.internal.HfFolderCheckpoint;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.gguf.GgufCheckpoint;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Opens a base model from disk, whatever its format.
 *
 * <pre>{@code
 * try (Checkpoint ckpt = Checkpoints.open(Path.of("model-folder-or-file.gguf"))) {
 *     System.out.println(ckpt.config().numLayers());
 * }
 * }</pre>
 */
public final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * A {@code .gguf} file, or a Hugging Face folder holding {@code config.json}, {@code model.safetensors} (or a
     * sharded index) and {@code tokenizer.json}. The caller closes the result.
     */
    public static Checkpoint open(Path path) throws PeftException, NoSuchFileException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "model not found");
        }
        if (Files.isDirectory(path)) {
            return HfFolderCheckpoint.open(path);
        }
        if (path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) {
            return GgufCheckpoint.open(path);
        }
        throw new CheckpointFormatException(path, "not a model: expected a .gguf file or a Hugging Face folder "
                + "with config.json and safetensors weights");
    }
}
