package io.peft4j.core.checkpoint;

import io.peft4j.core.checkpoint.internal.OpenCheckpoint;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A base model on disk: a Hugging Face folder ({@code config.json}, safetensors, {@code tokenizer.json}) or a
 * llama.cpp GGUF file, seen the same way: a {@link ModelConfig}, lazily read weights under Hugging Face names,
 * and a tokenizer.
 *
 * <pre>{@code
 * try (Checkpoint ckpt = Checkpoints.open(Path.of("SmolLM2-135M-Instruct.Q4_1.gguf"))) {
 *     int layers = ckpt.config().numLayers();
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public interface Checkpoint extends AutoCloseable {

    /** The folder or file opened. */
    Path path();

    /** {@code safetensors} or {@code gguf}. */
    String format();

    ModelConfig config();

    /** Weights under Hugging Face names (GGUF names mapped, q/k rows un-permuted). */
    TensorSource tensors();

    /** The tokenizer shipped with the checkpoint; the caller must not close it (the checkpoint does). */
    Tokenizer tokenizer();

    /** The Jinja chat template ({@code tokenizer_config.json} or GGUF {@code tokenizer.chat_template}). */
    Optional<String> chatTemplate();

    @Override
    void close();

    /**
     * A checkpoint over parts already opened (used by the format readers); closing it closes {@code tensors} and
     * {@code tokenizer}.
     */
    static Checkpoint of(Path path, String format, ModelConfig config, TensorSource tensors, Tokenizer tokenizer) {
        return new OpenCheckpoint(path, format, config, tensors, tokenizer);
    }
}
