package io.peft4j.quant;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.checkpoint.gguf.GgufTensorSource;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.quant.internal.QuantizationConfigJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Opens any base model (GGUF file, dense or 4-bit Hugging Face folder) and picks the {@link LinearLayerFactory}
 * for a {@code --quantize} choice. A folder written by transformers + bitsandbytes (or
 * {@link QuantizedCheckpointWriter}) is presented through a {@link QuantizedTensorSource}: weights under their
 * logical shapes, {@code readFloats} dequantized, {@code storedBytes} counting the packed state, so
 * {@code CheckpointSummary} reports the stored bytes per parameter. Users reach this through
 * {@link io.peft4j.core.pretrained.Peft4jModel} ({@link QuantizedLoading} is its backend).
 *
 * <pre>{@code
 * try (Checkpoint ckpt = QuantizedCheckpoints.open(Path.of("smollm2-nf4"))) {
 *     LinearLayerFactory stored = QuantizedCheckpoints.linearFactory(ckpt, "none");   // codes kept as stored
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class QuantizedCheckpoints {
    private QuantizedCheckpoints() {
    }

    /**
     * {@link Checkpoints#open}, with the logical view when the weights are stored quantized. A bitsandbytes 8-bit
     * (LLM.int8) folder is refused with a clear error.
     */
    public static Checkpoint open(Path path) throws PeftException, NoSuchFileException {
        if (Files.isDirectory(path)) {
            refuseEightBit(path.resolve("config.json"));
        }
        Checkpoint ckpt = Checkpoints.open(path);
        Optional<QuantizedTensorSource> view = QuantizedTensorSource.wrap(ckpt.tensors());
        return view.<Checkpoint>map(v -> new View(ckpt, v)).orElse(ckpt);
    }

    /**
     * Quantizes the model at {@code source} (GGUF or dense folder) to a 4-bit (or INT8) folder at {@code output},
     * streaming: each projection is read as fp32, quantized and dropped before the next, so peak memory is the
     * quantized model plus its fp32 embeddings/norms plus one fp32 weight. See {@link QuantizedCheckpointWriter}.
     *
     * @throws IllegalArgumentException if {@code source} is already quantized or {@code output} is {@code source}
     */
    public static QuantizedCheckpointWriter.Summary quantize(Path source, Path output, QuantConfig config)
            throws PeftException, IOException {
        if (output.toAbsolutePath().normalize().equals(source.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--output must differ from --model (" + source + ")");
        }
        try (Checkpoint ckpt = open(source)) {
            if (isQuantized(ckpt)) {
                throw new IllegalArgumentException(source + " is already quantized; quantize a GGUF file or a dense "
                        + "folder");
            }
            try (Peft4jModel model = Peft4jModel.builder().setCheckpoint(ckpt)
                    .optLinearLayerFactory(new QuantizingLinearFactory(config)).build()) {
                return QuantizedCheckpointWriter.write(output, model.base(), ckpt.tokenizer());
            }
        }
    }

    /** Whether {@code ckpt}'s weights are stored quantized. */
    public static boolean isQuantized(Checkpoint ckpt) {
        return ckpt.tensors() instanceof QuantizedTensorSource
                || QuantizedTensorSource.wrap(ckpt.tensors()).isPresent();
    }

    /**
     * The factory for {@code quantize} ({@code none}, {@code nf4}, {@code fp4}, {@code int8}, {@code gguf},
     * {@code auto}; null means none): for a GGUF file with {@code gguf}, a {@link GgufBlockLinearFactory}
     * (projections stay in their Q4_0 / Q4_1 / Q8_0 blocks and small-batch decode reads them directly; others fp32);
     * {@code auto} is {@code gguf} for a GGUF file that stores some projection in those types and {@code none}
     * otherwise (what the inference commands load with: the weights as the file stores them);
     * for a checkpoint stored quantized, a {@link StoredQuantLinearFactory} over the stored codes (asking for a
     * different type than stored is refused: re-quantizing quantized weights compounds the error); otherwise
     * {@link QuantizingLinearFactory#forType}.
     *
     * @throws IllegalArgumentException for an unknown type or one that conflicts with the stored type
     */
    public static LinearLayerFactory linearFactory(Checkpoint ckpt, String quantize) throws CheckpointFormatException {
        String want = quantize == null ? "none" : quantize.toLowerCase(Locale.ROOT);
        if ("auto".equals(want)) {
            want = keepsBlocks(ckpt) ? "gguf" : "none";
        }
        if (!isQuantized(ckpt)) {
            // "gguf": a GGUF model keeps its Q4_0/Q4_1/Q8_0 projections as blocks (decode reads them directly)
            if ("gguf".equals(want)) {
                if (!(ckpt.tensors() instanceof GgufTensorSource)) {
                    throw new IllegalArgumentException("quantization 'gguf' keeps a GGUF file's blocks; "
                            + ckpt.path() + " is not a GGUF file");
                }
                return new GgufBlockLinearFactory();
            }
            return QuantizingLinearFactory.forType(want);
        }
        String stored = storedType(ckpt.tensors());
        if (!"none".equals(want) && !want.equals(stored)) {
            QuantType.parse(want); // unknown names get the usual message
            throw new IllegalArgumentException(ckpt.path() + " is already quantized to " + stored + "; pass "
                    + "--quantize none or " + stored + " (re-quantizing to " + want + " is refused)");
        }
        return new StoredQuantLinearFactory();
    }

    /** Whether {@code ckpt} is a GGUF file with at least one projection in a block type the decode kernel reads. */
    private static boolean keepsBlocks(Checkpoint ckpt) {
        if (!(ckpt.tensors() instanceof GgufTensorSource g)) {
            return false;
        }
        for (String name : g.names()) {
            if (GgufBlockLinearFactory.blocks(g, name).isPresent()) {
                return true;
            }
        }
        return false;
    }

    private static String storedType(TensorSource tensors) throws CheckpointFormatException {
        QuantizedTensorSource q = tensors instanceof QuantizedTensorSource s ? s
                : QuantizedTensorSource.wrap(tensors).orElseThrow();
        String first = q.quantizedNames().iterator().next();
        return q.dtype(first).toLowerCase(Locale.ROOT);
    }

    private static void refuseEightBit(Path config) throws CheckpointFormatException {
        if (!Files.isRegularFile(config)) {
            return; // Checkpoints.open names the missing file
        }
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(config.toFile());
        } catch (IOException e) {
            return; // Checkpoints.open reports the bad JSON
        }
        if (QuantizationConfigJson.isBnbEightBit(n)) {
            throw new CheckpointFormatException(config, "quantization_config is bitsandbytes 8-bit (LLM.int8): "
                    + "not supported; peft4j loads bitsandbytes 4-bit (nf4/fp4) folders");
        }
    }

    /** A checkpoint whose tensors are the logical view; closing it closes the original. */
    private record View(Checkpoint inner, QuantizedTensorSource tensors) implements Checkpoint {
        @Override
        public Path path() {
            return inner.path();
        }

        @Override
        public String format() {
            return inner.format();
        }

        @Override
        public ModelConfig config() {
            return inner.config();
        }

        @Override
        public Tokenizer tokenizer() {
            return inner.tokenizer();
        }

        @Override
        public Optional<String> chatTemplate() {
            return inner.chatTemplate();
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
