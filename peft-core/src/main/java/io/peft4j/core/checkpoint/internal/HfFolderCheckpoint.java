package io.peft4j.core.checkpoint.internal;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.CheckpointFormat;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.tokenizer.HfTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a Hugging Face model folder ({@code config.json}, safetensors weights, {@code tokenizer.json}) as a
 * {@link Checkpoint}. A weight stored packed by a quantizer (transformers + bitsandbytes 4-bit layout: a
 * {@code <name>.quant_state.*} tensor beside it) is exposed as stored (its packed bytes); its shape is checked by
 * the quantization module, which also presents such folders dequantized ({@code QuantizedCheckpoints.open}).
 */
public final class HfFolderCheckpoint implements CheckpointFormat {

    /** Folders (their content is checked by {@link #open}). */
    @Override
    public boolean accepts(Path path) {
        return Files.isDirectory(path);
    }

    @Override
    public Checkpoint open(Path dir) throws PeftException {
        ModelConfig config = readConfig(dir.resolve("config.json"));
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new CheckpointFormatException(dir, "no tokenizer.json in the model folder");
        }
        TensorSource tensors = SafetensorsReader.openModelFolder(dir);
        try {
            checkShapes(config, tensors);
            return new OpenCheckpoint(dir, "safetensors", config, tensors, HfTokenizer.load(dir));
        } catch (PeftException | RuntimeException e) {
            tensors.close();
            throw e;
        }
    }

    private static ModelConfig readConfig(Path file) throws CheckpointFormatException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointFormatException(file, "missing: a Hugging Face model folder needs config.json");
        }
        try {
            return ModelConfig.fromHfConfig(Json.MAPPER.readTree(file.toFile()), file);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
    }

    /** A config that does not match the weights is refused before anything is built. */
    private static void checkShapes(ModelConfig c, TensorSource t) throws CheckpointFormatException {
        expect(t, "model.embed_tokens.weight", c.vocabSize(), c.hiddenSize());
        expect(t, "model.layers.0.self_attn.q_proj.weight", (long) c.numHeads() * c.headDim(), c.hiddenSize());
        expect(t, "model.layers.0.self_attn.k_proj.weight", (long) c.numKvHeads() * c.headDim(), c.hiddenSize());
        expect(t, "model.layers.0.mlp.gate_proj.weight", c.intermediateSize(), c.hiddenSize());
        String last = "model.layers." + (c.numLayers() - 1) + ".input_layernorm.weight";
        if (!t.contains(last)) {
            throw new CheckpointFormatException(t.path(), last, "missing: config.json says " + c.numLayers()
                    + " layers");
        }
    }

    private static void expect(TensorSource t, String name, long rows, long cols) throws CheckpointFormatException {
        if (!t.contains(name)) {
            throw new CheckpointFormatException(t.path(), name, "missing from the weights");
        }
        if (isPacked(t, name)) {
            return; // packed codes [n/2, 1]: the quant state records the logical shape
        }
        long[] s = t.shape(name);
        if (s.length != 2 || s[0] != rows || s[1] != cols) {
            throw new CheckpointFormatException(t.path(), name, "shape " + java.util.Arrays.toString(s)
                    + " does not match config.json, which implies [" + rows + ", " + cols + "]");
        }
    }

    /** Whether {@code name} is stored packed by a quantizer: a {@code name.quant_state.*} tensor describes it. */
    public static boolean isPacked(TensorSource t, String name) {
        String prefix = name + ".quant_state.";
        return t.names().stream().anyMatch(n -> n.startsWith(prefix));
    }
}
