package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.tokenizer.GgufTokenizer;

import java.nio.file.Path;

/** Opens a llama.cpp GGUF file as a {@link Checkpoint}: config from {@code llama.*}, tokenizer from {@code tokenizer.ggml.*}. */
public final class GgufCheckpoint {
    private GgufCheckpoint() {
    }

    /** Opens a {@code .gguf} file as a checkpoint (config from metadata, tokenizer from metadata). */
    public static Checkpoint open(Path file) throws PeftException {
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
