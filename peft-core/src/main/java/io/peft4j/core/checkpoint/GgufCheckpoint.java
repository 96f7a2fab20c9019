package io.peft4j.core.checkpoint;

import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.tokenizer.GgufTokenizer;

import java.nio.file.Path;

/** Opens a llama.cpp GGUF file as a {@link Checkpoint}: config from {@code llama.*}, tokenizer from {@code tokenizer.ggml.*}. */
final class GgufCheckpoint {
    private GgufCheckpoint() {
    }

    static Checkpoint open(Path file) throws PeftException {
        GgufTensorSource tensors = GgufTensorSource.open(file);
        try {
            ModelConfig config = GgufModelConfig.from(tensors.file());
            return new OpenCheckpoint(tensors.path(), "gguf", config, tensors, GgufTokenizer.fromGguf(tensors.file()));
        } catch (PeftException | RuntimeException e) {
            tensors.close();
            throw e;
        }
    }
}
