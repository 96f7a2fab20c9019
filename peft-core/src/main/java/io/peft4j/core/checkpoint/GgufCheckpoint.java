package io.peft4j.core.checkpoint;

import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.tokenizer.GgufTokenizer;
import io.peft4j.core.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Optional;

/** A llama.cpp GGUF file seen as a {@link Checkpoint}: config from {@code llama.*}, tokenizer from {@code tokenizer.ggml.*}. */
final class GgufCheckpoint implements Checkpoint {
    private final GgufTensorSource tensors;
    private final ModelConfig config;
    private final Tokenizer tokenizer;

    private GgufCheckpoint(GgufTensorSource tensors, ModelConfig config, Tokenizer tokenizer) {
        this.tensors = tensors;
        this.config = config;
        this.tokenizer = tokenizer;
    }

    static GgufCheckpoint open(Path file) throws PeftException {
        GgufTensorSource tensors = GgufTensorSource.open(file);
        try {
            ModelConfig config = GgufModelConfig.from(tensors.file());
            return new GgufCheckpoint(tensors, config, GgufTokenizer.fromGguf(tensors.file()));
        } catch (PeftException | RuntimeException e) {
            tensors.close();
            throw e;
        }
    }

    @Override
    public Path path() {
        return tensors.path();
    }

    @Override
    public String format() {
        return "gguf";
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public TensorSource tensors() {
        return tensors;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public Optional<String> chatTemplate() {
        return tokenizer.chatTemplate();
    }

    @Override
    public void close() {
        tokenizer.close();
        tensors.close();
    }
}
