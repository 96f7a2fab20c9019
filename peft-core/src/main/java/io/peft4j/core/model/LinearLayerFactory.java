package io.peft4j.core.model;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.TensorSource;

/**
 * Builds the layer for one projection while a model loads, reading its weight from the checkpoint.
 * The default makes a {@link io.peft4j.core.DenseLinear}; the quantization module supplies one that
 * quantizes tensor by tensor so the fp32 model never sits in memory whole.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface LinearLayerFactory {

    /**
     * @param modulePath Hugging Face module path, e.g. {@code model.layers.0.self_attn.q_proj}
     * @param weights    checkpoint to read {@code modulePath + ".weight"} (and {@code ".bias"}) from
     * @param manager    owner of the arrays the layer keeps
     */
    LinearLayer create(String modulePath, TensorSource weights, NDManager manager) throws CheckpointFormatException;
}
