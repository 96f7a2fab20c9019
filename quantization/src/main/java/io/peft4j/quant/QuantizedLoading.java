package io.peft4j.quant;

import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.QuantizationBackend;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * This module's {@link QuantizationBackend}, registered in {@code META-INF/services}: with the quantization jar on
 * the class path, {@link io.peft4j.core.pretrained.Peft4jModel} opens 4-bit folders through
 * {@link QuantizedCheckpoints#open} and quantizes on load through {@link QuantizedCheckpoints#linearFactory}.
 * Stateless and thread-safe. Users do not call it; they name the quantization:
 *
 * <pre>{@code
 * Peft4jModel model = Peft4jModel.builder().setPath(Path.of("SmolLM2.gguf")).optQuantization("nf4").build();
 * }</pre>
 *
 * @since 0.1.0
 */
public final class QuantizedLoading implements QuantizationBackend {
    /** {@code none}, then every {@link QuantType} by its lower-case name. */
    private static final List<String> NAMES = List.of("none", "nf4", "fp4", "int8");

    /** For {@code ServiceLoader}. */
    public QuantizedLoading() {
    }

    @Override
    public List<String> names() {
        return NAMES;
    }

    @Override
    public Checkpoint open(Path path) throws PeftException, NoSuchFileException {
        return QuantizedCheckpoints.open(path);
    }

    @Override
    public LinearLayerFactory linearFactory(Checkpoint checkpoint, String quantization) throws PeftException {
        return QuantizedCheckpoints.linearFactory(checkpoint, quantization);
    }
}
