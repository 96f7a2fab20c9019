package io.peft4j.core.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.tokenizer.Tokenizer;

import io.peft4j.core.io.AtomicFolder;
import io.peft4j.core.io.OutputFolder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face model folder ({@code config.json}, {@code model.safetensors}, tokenizer files) tensor by
 * tensor, atomically ({@link AtomicFolder}: built beside the target and swapped in by rename), so a crash at any
 * point leaves the old model folder or the new one, never a half-written model.
 *
 * <pre>{@code
 * try (Checkpoint gguf = Checkpoints.open(Path.of("model.gguf"))) {
 *     HfFolderWriter.write(Path.of("model-hf"), gguf.config(), gguf.tensors(), gguf.tokenizer(), Map.of());
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class HfFolderWriter {
    private HfFolderWriter() {
    }

    /** Writes every tensor of {@code weights} as F32 plus config and tokenizer into {@code dir} (replaced whole). */
    public static void write(Path dir, ModelConfig config, TensorSource weights, Tokenizer tokenizer,
                             Map<String, String> metadata) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (String name : weights.names()) {
            entries.add(new SafetensorsWriter.Entry(name, "F32", weights.shape(name)));
        }
        write(dir, config, entries, name -> {
            try {
                return TensorData.f32(weights.readFloats(name), weights.shape(name));
            } catch (CheckpointFormatException e) {
                throw new IOException(e.getMessage(), e);
            }
        }, tokenizer, metadata);
    }

    /** Writes the tensors {@code producer} yields for {@code entries}, plus config and tokenizer, into {@code dir}. */
    public static void write(Path dir, ModelConfig config, List<SafetensorsWriter.Entry> entries,
                             SafetensorsWriter.TensorProducer producer, Tokenizer tokenizer,
                             Map<String, String> metadata) throws IOException {
        write(dir, config.toHfConfig(), entries, producer, tokenizer, metadata);
    }

    /**
     * As {@link #write(Path, ModelConfig, List, SafetensorsWriter.TensorProducer, Tokenizer, Map)} with the
     * {@code config.json} content given whole, e.g. {@link ModelConfig#toHfConfig()} plus a
     * {@code quantization_config} node.
     */
    public static void write(Path dir, ObjectNode configJson, List<SafetensorsWriter.Entry> entries,
                             SafetensorsWriter.TensorProducer producer, Tokenizer tokenizer,
                             Map<String, String> metadata) throws IOException {
        write(dir, configJson, entries, producer, tokenizer, metadata, null);
    }

    /**
     * As {@link #write(Path, ObjectNode, List, SafetensorsWriter.TensorProducer, Tokenizer, Map)}, plus the
     * {@link OutputFolder#MARKER} naming the command that wrote the folder ({@code writtenBy}; none if null), which
     * lets that command recognise its own previous output before replacing it.
     */
    public static void write(Path dir, ObjectNode configJson, List<SafetensorsWriter.Entry> entries,
                             SafetensorsWriter.TensorProducer producer, Tokenizer tokenizer,
                             Map<String, String> metadata, String writtenBy) throws IOException {
        AtomicFolder.replace(dir, tmp -> {
            Json.MAPPER.writeValue(tmp.resolve("config.json").toFile(), configJson);
            if (tokenizer != null) {
                tokenizer.save(tmp);
            }
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), entries, metadata, producer);
            if (writtenBy != null) {
                OutputFolder.writeMarker(tmp, writtenBy);
            }
        });
    }
}
