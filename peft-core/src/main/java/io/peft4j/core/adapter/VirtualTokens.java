package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.model.block.PrefixKeyValues;

/**
 * What a soft-prompt adapter puts before a sequence when it serves some rows of a mixed batch
 * ({@link Adapter#virtualTokens}): rows of input embeddings prepended to the row's own (prompt tuning, P-tuning),
 * or keys and values every attention layer sees first (prefix tuning). A {@link MixedAdapterModel} left-pads each
 * row's virtual tokens to the longest in the batch and masks the padding, so every row gets what it gets alone.
 *
 * <pre>{@code
 * VirtualTokens v = adapter.virtualTokens(model, manager);   // null for adapters that only change projections
 * int p = v.inputEmbeddings() != null ? (int) v.inputEmbeddings().getShape().get(0) : v.attentionPrefix().length();
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
}
