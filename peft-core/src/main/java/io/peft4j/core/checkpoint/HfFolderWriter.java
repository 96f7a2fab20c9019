package io.peft4j.core.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a Hugging Face model folder ({@code config.json}, {@code model.safetensors}, tokenizer files) tensor by
 * tensor, atomically: the folder is built beside the target and renamed into place, so a crash never leaves a
 * half-written model where a good one was.
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
        Path target = dir.toAbsolutePath();
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".tmp");
        try {
            readableByAll(tmp); // a temp folder is created rwx------; the model folder should not be
            Json.MAPPER.writeValue(tmp.resolve("config.json").toFile(), configJson);
            tokenizer.save(tmp);
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), entries, metadata, producer);
            replace(tmp, target);
        } finally {
            deleteTree(tmp);
        }
    }

    private static void readableByAll(Path dir) {
        try {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: keep the default permissions
        }
    }

    /** Moves {@code tmp} to {@code target}; an existing target is moved aside first and deleted after. */
    private static void replace(Path tmp, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + ".old-" + System.nanoTime());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
