package io.peft4j.core.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.model.block.PrefixKeyValues;

import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A decoder-only language model whose projections are {@link LinearLayer}s addressable by their Hugging Face
 * module path. Base parameters are frozen. Forward calls should run inside an {@code NDScope}.
 *
 * <pre>{@code
 * try (NDScope scope = new NDScope()) {
 *     NDArray logits = model.forward(inputIds, attentionMask, null);   // [B, T, vocab]
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    /** Owner of the model's weights. */
    NDManager manager();

    /**
     * Logits {@code [B, T, vocab]} for {@code inputIds [B, T]} (int64). {@code attentionMask [B, T]} has 1 for real
     * tokens and 0 for padding (left or right), or is {@code null} for no padding. With a {@code cache}, positions
     * continue after what is cached and the new keys/values are appended; the mask then covers only the tokens
     * passed (the cache remembers the earlier ones). Position ids count real tokens, as transformers' generate
     * does, so a left-padded row gives the same logits as the row alone.
     */
    NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache);

    /**
     * Logits {@code [B, vocab]} of the last position only (what generation samples from); same inputs as
     * {@link #forward}. Implementations skip the lm_head on the other positions; this default slices.
     */
    default NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return forward(inputIds, attentionMask, cache).get(new ai.djl.ndarray.index.NDIndex(":, -1, :"));
    }

    /**
     * Same as {@link #forward} but starting from input embeddings {@code [B, T, hidden]} (soft prompts prepend
     * trainable rows here).
     */
    NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache);

    /**
     * {@link #forwardEmbeddings} where every attention layer first sees {@code prefix}'s keys and values (prefix
     * tuning): P leading positions that every token may attend to, so the input's positions start at P. Without a
     * cache and outside {@link io.peft4j.core.Inference} the prefix stays in the graph (gradients reach it); with a
     * cache, which must then be empty, the prefix is copied into it as its first P positions and later steps find it
     * there. {@code prefix == null} is plain {@link #forwardEmbeddings}. This default supports only that.
     */
    default NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache,
                                      PrefixKeyValues prefix) {
        if (prefix == null) {
            return forwardEmbeddings(inputEmbeddings, attentionMask, cache);
        }
        throw new UnsupportedOperationException("attention prefixes (prefix tuning) are not supported by "
                + getClass().getSimpleName());
    }

    /**
     * Training forward + backward: back-propagates {@code loss.apply(logits)} (a scalar) into every array that
     * requires a gradient and returns the loss value. Gradients accumulate (nothing is zeroed here). Call it with no
     * {@code GradientCollector} open: it opens its own. {@code rngSeed} seeds the engine RNG (dropout) so that a
     * step is reproducible; models that run layer by layer derive one seed per layer from it. A
     * {@link TokenCrossEntropy} loss lets a model with a fused head (the LLaMA family) skip the full logits
     * ({@link TokenCrossEntropy#backwardFused}); other models apply it to the logits. Same as
     * {@link #backward(NDArray, NDArray, NDArray, Function, boolean, long)} without position ids.
     *
     * @param checkpointActivations keep only each layer's input and recompute the layer during backward (less
     *                              memory, about one more forward of time); this default cannot and refuses it
     */
    default float backward(NDArray inputIds, NDArray attentionMask, Function<NDArray, NDArray> loss,
                           boolean checkpointActivations, long rngSeed) {
        return backward(inputIds, attentionMask, null, loss, checkpointActivations, rngSeed);
    }

    /**
     * {@link #backward(NDArray, NDArray, Function, boolean, long)} for packed rows: {@code attentionMask [B, T]}
     * holds 0 for padding and else the 1-based sequence number of each token (a token attends only to earlier
     * tokens of its own sequence) and {@code positionIds [B, T]} the rope position of each token (restarting per
     * sequence), or {@code null} to derive positions from the mask. A 0/1 mask without position ids is the
     * unpacked case. This default supports only that case.
     */
    default float backward(NDArray inputIds, NDArray attentionMask, NDArray positionIds,
                           Function<NDArray, NDArray> loss, boolean checkpointActivations, long rngSeed) {
        if (checkpointActivations) {
            throw new UnsupportedOperationException("activation checkpointing is not supported by "
                    + getClass().getSimpleName());
        }
        if (positionIds != null) {
            throw new UnsupportedOperationException("packed rows (position ids) are not supported by "
                    + getClass().getSimpleName());
        }
        Engine.getInstance().setRandomSeed(segmentSeed(rngSeed, -1));
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray value = loss.apply(forward(inputIds, attentionMask, null));
            gc.backward(value);
            return value.getFloat();
        }
    }

    /**
     * {@link #backward(NDArray, NDArray, NDArray, Function, boolean, long)} with virtual tokens (a soft prompt) before
     * every row: {@code virtualTokens} is called once per step, inside the step's gradient recording, so gradients
     * reach the arrays it is computed from; the loss sees the input's positions only (virtual positions carry no
     * label). {@code null} is the plain method. This default runs one graph over the full logits and supports neither
     * activation checkpointing nor position ids; the LLaMA family runs layer by layer with the fused loss.
     */
    default float backward(NDArray inputIds, NDArray attentionMask, NDArray positionIds,
                           Supplier<VirtualTokens> virtualTokens, Function<NDArray, NDArray> loss,
                           boolean checkpointActivations, long rngSeed) {
        if (virtualTokens == null) {
            return backward(inputIds, attentionMask, positionIds, loss, checkpointActivations, rngSeed);
        }
        if (checkpointActivations || positionIds != null) {
            throw new UnsupportedOperationException((checkpointActivations ? "activation checkpointing" : "packed rows")
                    + " with virtual tokens is not supported by " + getClass().getSimpleName());
        }
        Engine.getInstance().setRandomSeed(segmentSeed(rngSeed, -1));
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray value = loss.apply(virtualTokens.get().forward(this, embed(inputIds), attentionMask, null));
            gc.backward(value);
            return value.getFloat();
        }
    }

    /**
     * The engine RNG seed of one segment of a training step: {@code -1} for a whole-model forward, {@code L} for
     * decoder layer {@code L} (and {@code numLayers} for the head) of a model run layer by layer. A SplitMix64
     * finaliser of {@code (rngSeed, segment)}, so recomputing a segment draws the same dropout masks.
     */
    static int segmentSeed(long rngSeed, int segment) {
        long z = rngSeed * 0x9E3779B97F4A7C15L + segment + 1;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    /** Token embeddings {@code [B, T, hidden]} of {@code inputIds [B, T]}. */
    NDArray embed(NDArray inputIds);

    /** Every projection by module path, in model order ({@code lm_head} last). Unmodifiable view. */
    Map<String, LinearLayer> linearLayers();

    /** Puts {@code layer} at {@code modulePath}; returns the layer it replaced (not closed). */
    LinearLayer replaceLinear(String modulePath, LinearLayer layer);

    /**
     * The weights that are not projections (embedding, norms) by Hugging Face name; live arrays, not copies.
     * Unmodifiable; empty for models that do not expose them.
     */
    default Map<String, NDArray> otherWeights() {
        return Map.of();
    }

    /**
     * Routes forwards through {@code weight.get()} instead of the stored weight {@code name} (a key of
     * {@link #otherWeights()}) whenever it returns non-null; {@code null} removes the override. Stored weights are
     * never changed. This default supports no weight.
     */
    default void overrideWeight(String name, Supplier<NDArray> weight) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot override weight '" + name + "'");
    }

    /** The override set by {@link #overrideWeight} for {@code name}, or null. */
    default Supplier<NDArray> weightOverride(String name) {
        return null;
    }

    /** A fresh, empty cache for batch size {@code batchSize}. */
    KvCache newKvCache(int batchSize);

    @Override
    void close();
}
