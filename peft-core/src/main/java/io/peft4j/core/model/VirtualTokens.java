package io.peft4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.model.block.PrefixKeyValues;

/**
 * What a soft prompt puts before every sequence: rows of input embeddings prepended to the row's own (prompt tuning,
 * P-tuning), or keys and values every attention layer sees first (prefix tuning). Adapters give them through
 * {@code Adapter.virtualTokens}; a mixed batch left-pads each row's virtual tokens to the longest in the batch and
 * masks the padding, so every row gets what it gets alone; training passes them to
 * {@link CausalLM#backward(NDArray, NDArray, NDArray, java.util.function.Supplier, java.util.function.Function,
 * boolean, long)}.
 *
 * <pre>{@code
 * VirtualTokens v = adapter.virtualTokens(model, manager, false);   // null for adapters that only change projections
 * NDArray logits = v.forward(model, model.embed(ids), mask, null);  // [B, T, vocab]: the input's positions only
 * }</pre>
 *
 * @param inputEmbeddings {@code [P, hidden]} rows before the input embeddings, or null
 * @param attentionPrefix per-layer keys and values {@code [1, kvHeads, P, D]}, or null
 *
 * @since 0.1.0
 */
public record VirtualTokens(NDArray inputEmbeddings, PrefixKeyValues attentionPrefix) {

    public VirtualTokens {
        if ((inputEmbeddings == null) == (attentionPrefix == null)) {
            throw new IllegalArgumentException("virtual tokens are either input embeddings or an attention prefix");
        }
    }

    /** The number of virtual tokens P. */
    public int length() {
        return inputEmbeddings != null ? Math.toIntExact(inputEmbeddings.getShape().get(0)) : attentionPrefix.length();
    }

    /** How many positions the model's hidden states gain before the input's: P for input rows, 0 for a prefix. */
    public int addedPositions() {
        return inputEmbeddings != null ? length() : 0;
    }

    /**
     * {@code embeddings [B, T, hidden]} with the input rows before every row ({@code [B, P + T, hidden]}), or
     * unchanged for a prefix; results belong to {@code embeddings}' manager.
     */
    public NDArray prepend(NDArray embeddings) {
        if (inputEmbeddings == null) {
            return embeddings;
        }
        NDManager m = embeddings.getManager();
        long b = embeddings.getShape().get(0);
        NDArray rows = attached(attached(inputEmbeddings.expandDims(0), m)
                .broadcast(b, length(), inputEmbeddings.getShape().get(1)), m);
        return attached(rows.concat(embeddings, 1), m);
    }

    /** {@code mask [B, T]} with P ones before every row for input rows; unchanged for a prefix or a null mask. */
    public NDArray prepend(NDArray mask, NDManager m) {
        if (inputEmbeddings == null || mask == null) {
            return mask;
        }
        return m.ones(new Shape(mask.getShape().get(0), length()), mask.getDataType()).concat(mask, 1);
    }

    /**
     * Logits {@code [B, T, vocab]} of {@code model} at the input's positions, with these virtual tokens before every
     * row; mask and cache as in {@link CausalLM#forwardEmbeddings(NDArray, NDArray, KvCache, PrefixKeyValues)}.
     */
    public NDArray forward(CausalLM model, NDArray embeddings, NDArray mask, KvCache cache) {
        NDArray logits = model.forwardEmbeddings(prepend(embeddings), prepend(mask, embeddings.getManager()), cache,
                attentionPrefix);
        int p = addedPositions();
        return p == 0 ? logits : logits.get(new NDIndex(":, " + p + ":, :"));
    }

    private static NDArray attached(NDArray a, NDManager m) {
        a.attach(m);
        return a;
    }
}
