package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.core.model.TokenEmbedding;
import io.peft4j.quant.internal.kernel.MatVec;
import io.peft4j.quant.internal.kernel.QuantMatrix;

/**
 * A lm_head tied to the token embedding, for models whose projections decode from GGUF blocks
 * ({@link GgufBlockLinearFactory#tiedHead}): a forward on a few rows at inference (the last position of a generation
 * step) multiplies from GGUF blocks with the matrix-vector kernel, about 30 MB read per token on SmolLM2-135M (Q8_0)
 * instead of the fp32 embedding's 113 MB. The blocks are the embedding's own when the file stores {@code token_embd}
 * as Q4_0 / Q4_1 / Q8_0 (a {@link BlockTokenEmbedding}: one copy serves lookups and the head), else the embedding
 * quantized to Q8_0 at load. Every other forward (training, full-sequence logits, large batches) multiplies by the
 * embedding's fp32 table (built then, for a block embedding), so gradients flow as for a
 * {@link io.peft4j.core.DenseLinear} head. The embedding stays owned by the model: {@link #tiedTo} its table, never
 * closed here, and {@link #denseWeight} is an exact copy of the table.
 *
 * <pre>{@code
 * LinearLayer head = model.linearLayers().get("lm_head");   // a TiedBlockHead when loaded with GgufBlockLinearFactory
 * NDArray logits = head.forward(lastHidden);                // [B, hidden] -> [B, vocab]
 * }</pre>
 *
 * @since 0.1.0
 */
public final class TiedBlockHead implements LinearLayer {
    private final String name;
    private final QuantMatrix.Ggml blocks;  // [vocab, hidden]
    private final TokenEmbedding embedding; // [vocab, hidden], owned by the model

    TiedBlockHead(String name, QuantMatrix.Ggml blocks, TokenEmbedding embedding) {
        if (embedding.vocabSize() != blocks.rows() || embedding.hiddenSize() != blocks.cols()) {
            throw new IllegalArgumentException("tied head '" + name + "': blocks [" + blocks.rows() + ", "
                    + blocks.cols() + "] do not match the embedding [" + embedding.vocabSize() + ", "
                    + embedding.hiddenSize() + "]");
        }
        this.name = name;
        this.blocks = blocks;
        this.embedding = embedding;
    }

    @Override
    public NDArray forward(NDArray x) {
        if (MatVec.takes(x, blocks.cols())) {
            return MatVec.forward(blocks, x, null);
        }
        return Linear.linear(x, embedding.table(), null).singletonOrThrow();
    }

    @Override
    public long inFeatures() {
        return blocks.cols();
    }

    @Override
    public long outFeatures() {
        return blocks.rows();
    }

    /** The fp32 embedding, copied onto {@code manager} (exact: the blocks are only the decode path's copy). */
    @Override
    public NDArray denseWeight(NDManager manager) {
        NDArray copy = embedding.table().duplicate();
        copy.attach(manager);
        return copy;
    }

    @Override
    public NDArray bias() {
        return null;
    }

    @Override
    public boolean tiedTo(NDArray weight) {
        return embedding.tableResident() && embedding.table() == weight;
    }

    /** The block type the decode path reads. */
    public GgmlType type() {
        return blocks.type();
    }

    /** The codes and scales only: the embedding is the model's and counted there. */
    @Override
    public long storedBytes() {
        return blocks.bytes();
    }

    /** Nothing to free: the blocks are heap bytes, the embedding is the model's. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "TiedBlockHead[" + name + " [" + blocks.rows() + ", " + blocks.cols() + "] " + blocks.type() + "]";
    }
}
