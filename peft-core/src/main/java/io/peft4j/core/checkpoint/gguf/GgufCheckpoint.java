package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.CheckpointFormat;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.tokenizer.GgufTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens a llama.cpp GGUF file as a {@link Checkpoint}: config from {@code llama.*}, tokenizer from {@code tokenizer.ggml.*}.
 *
 * @since 0.1.0
 */
public final class GgufCheckpoint implements CheckpointFormat {

    /** Files named {@code *.gguf}. */
    @Override
    public boolean accepts(Path path) {
        return !Files.isDirectory(path)
                && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /** Opens a {@code .gguf} file as a checkpoint (config from metadata, tokenizer from metadata). */
    @Override
    public Checkpoint open(Path file) throws PeftException {
        GgufTensorSource tensors = GgufTensorSource.open(file);
        try {
            ModelConfig config = GgufModelConfig.from(tensors.file());
            return Checkpoint.of(tensors.path(), "gguf", config, tensors,
                    GgufTokenizer.fromMetadata(tensors.file().metadata(), tensors.path().toString()));
        } catch (PeftException | RuntimeException e) {
            tensors.close();
            throw e;
        }
    }
}
