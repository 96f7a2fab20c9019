package io.peft4j.core.checkpoint;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.PeftException;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens a base model from disk, whatever its format.
 *
 * <pre>{@code
 * try (Checkpoint ckpt = Checkpoints.open(Path.of("model-folder-or-file.gguf"))) {
 *     System.out.println(ckpt.config().numLayers());
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class Checkpoints {
    private static final List<CheckpointFormat> FORMATS = discover();

    private Checkpoints() {
    }

    private static List<CheckpointFormat> discover() {
        List<CheckpointFormat> found = new ArrayList<>();
        ServiceLoader.load(CheckpointFormat.class, CheckpointFormat.class.getClassLoader()).forEach(found::add);
        return List.copyOf(found);
    }

    /**
     * A {@code .gguf} file, or a Hugging Face folder holding {@code config.json}, {@code model.safetensors} (or a
     * sharded index) and {@code tokenizer.json}. The caller closes the result.
     */
    public static Checkpoint open(Path path) throws PeftException, NoSuchFileException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "model not found");
        }
        for (CheckpointFormat format : FORMATS) {
            if (format.accepts(path)) {
                return format.open(path);
            }
        }
        throw new CheckpointFormatException(path, "not a model: expected a .gguf file or a Hugging Face folder "
                + "with config.json and safetensors weights");
    }
}
