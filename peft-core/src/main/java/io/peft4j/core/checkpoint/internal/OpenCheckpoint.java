package io.peft4j.core.checkpoint.internal;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Optional;

/** The parts of an opened checkpoint, whatever its format; closing it closes the tokenizer and the weights. */
public record OpenCheckpoint(Path path, String format, ModelConfig config, TensorSource tensors, Tokenizer tokenizer)
        implements Checkpoint {

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
