package io.peft4j.core.model;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.DenseLinear;
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

    /**
     * The token embedding {@code name} ({@code [vocab, hidden]}, shape already checked by the loader). The default
     * loads its fp32 table; the GGUF block factory keeps a GGUF file's Q4 / Q8 embedding blocks instead.
     *
     * @param manager owner of the arrays the embedding keeps
     */
    default TokenEmbedding embedding(String name, TensorSource weights, NDManager manager)
            throws CheckpointFormatException {
        return TokenEmbedding.of(weights.loadWeight(name, manager));
    }

    /**
     * The output layer of a model whose lm_head is tied to its token embedding: a layer that multiplies by the
     * embedding's table and reports {@link LinearLayer#tiedTo tiedTo(table)}. The default is a {@link DenseLinear}
     * on the table itself; the GGUF block factory multiplies from blocks for decode.
     *
     * @param modulePath    the head's module path ({@code lm_head})
     * @param embeddingName the embedding's tensor name in {@code weights} ({@code model.embed_tokens.weight})
     * @param embedding     the model's embedding (the layer must not close it)
     */
    default LinearLayer tiedHead(String modulePath, String embeddingName, TensorSource weights,
                                 TokenEmbedding embedding, NDManager manager) throws CheckpointFormatException {
        return new DenseLinear(embedding.table(), null);
    }
}
