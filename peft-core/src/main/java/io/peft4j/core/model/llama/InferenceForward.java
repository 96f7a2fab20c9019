package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;

import java.util.function.Supplier;

/**
 * The decoder layers of a {@link LlamaModel} when nothing records a graph (generation, evaluation, benchmarks),
 * with memory that does not grow with the square of the sequence:
 * <ul>
 *   <li>a sequence longer than {@link #CHUNK} tokens goes through the KV cache in chunks (a temporary cache when
 *       the caller passed none), so a layer's attention scores are {@code [B, heads, chunk, keys]}, never
 *       {@code [T, T]};</li>
 *   <li>every decoder layer runs in its own {@code NDScope} that keeps only the layer's output, so one layer's
 *       intermediates (scores, probabilities, MLP activations) are alive at a time, not those of every layer.</li>
 * </ul>
 * Chunking changes nothing but the order of the floating-point sums: query {@code i} of a chunk attends to the
 * cached keys and to the chunk's keys up to itself, exactly the keys it sees in one pass. Package-private:
 * reached through {@link LlamaModel#hidden}.
 */
final class InferenceForward {
    /** Tokens per prefill chunk: scores of a 4,096-token prompt on SmolLM2 are 9 × 256 × 4,096 floats (38 MB). */
    static final int CHUNK = 256;

    private InferenceForward() {
    }

    /**
     * The last decoder layer's output {@code [B, T, hidden]} for {@code embeddings [B, T, hidden]} (before the final
     * norm); {@code attentionMask [B, T]} or null; appends to and commits {@code cache} when given.
     */
    static NDArray layers(LlamaModel model, NDArray embeddings, NDArray attentionMask, LlamaKvCache cache) {
        int b = Math.toIntExact(embeddings.getShape().get(0));
        int t = Math.toIntExact(embeddings.getShape().get(1));
        if (FusedDecode.takes(model, b, t, cache)) {
            return FusedDecode.layers(model, embeddings, attentionMask, cache);
        }
        if (t <= CHUNK) {
            return chunk(model, embeddings, attentionMask, cache);
        }
        LlamaKvCache kv = cache != null ? cache : (LlamaKvCache) model.newKvCache(b);
        NDList parts = new NDList();
        try {
            kv.reserve(kv.length() + t);
            for (int start = 0; start < t; start += CHUNK) {
                NDIndex cols = new NDIndex(":, " + start + ":" + Math.min(t, start + CHUNK));
                NDArray part = embeddings.get(cols);
                NDArray mask = attentionMask == null ? null : attentionMask.get(cols);
                parts.add(chunk(model, part, mask, kv));
                part.close();
                if (mask != null) {
                    mask.close();
                }
            }
            return NDArrays.concat(parts, 1);
        } finally {
            parts.close();
            if (cache == null) {
                kv.close();
            }
        }
    }

    /** One chunk through every layer; only the last layer's output outlives the call. */
    private static NDArray chunk(LlamaModel model, NDArray input, NDArray attentionMask, LlamaKvCache kv) {
        return keepOnly(() -> {
            LlamaModel.LayerInputs in = model.layerInputs(input, attentionMask, kv);
            NDArray x = input;
            for (DecoderLayer layer : model.decoderLayers()) {
                NDArray layerInput = x;
                x = keepOnly(() -> layer.forward(layerInput, in, kv));
                if (layerInput != input) {
                    layerInput.close();
                }
            }
            if (kv != null) {
                kv.commit();
            }
            return x;
        });
    }

    /** Runs {@code f} in its own scope and keeps only its result (registered in the caller's scope, if any). */
    private static NDArray keepOnly(Supplier<NDArray> f) {
        NDArray kept;
        try (NDScope scope = new NDScope()) {
            kept = f.get();
            NDScope.unregister(kept);
        }
        NDScope.register(kept);
        return kept;
    }
}
