package io.peft4j.core.model;

import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The seam through which a quantization module plugs into loading (found by {@code ServiceLoader}, registered in
 * {@code META-INF/services/io.peft4j.core.model.QuantizationBackend}): it opens checkpoints whose weights are stored
 * quantized under their logical view, and turns a quantization name into the {@link LinearLayerFactory} that builds
 * the projections. peft-core knows no quantization by name; {@link io.peft4j.core.pretrained.Peft4jModel} passes the
 * user's name through. Implementations must be stateless and thread-safe.
 *
 * <pre>{@code
 * QuantizationBackend q = ServiceLoader.load(QuantizationBackend.class).findFirst().orElseThrow();
 * try (Checkpoint ckpt = q.open(path)) {
 *     CausalLM model = ModelFamilies.load(ckpt.config(), ckpt.tensors(), q.linearFactory(ckpt, name), manager);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public interface QuantizationBackend {

    /** The quantization names {@link #linearFactory} understands (lower case), the dense {@code none} first. */
    List<String> names();

    /**
     * Opens {@code path} as {@link io.peft4j.core.checkpoint.Checkpoints#open} does, presenting weights stored
     * quantized under their logical shapes (reads dequantize).
     */
    Checkpoint open(Path path) throws PeftException, NoSuchFileException;

    /**
     * The projection factory for {@code quantization} (case-insensitive; {@code none} or null means dense) over
     * {@code checkpoint}; a checkpoint stored quantized loads as stored.
     *
     * @throws IllegalArgumentException for an unknown name, or one that conflicts with how the weights are stored
     */
    LinearLayerFactory linearFactory(Checkpoint checkpoint, String quantization) throws PeftException;
}
