package io.peft4j.core.model.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.TokenCrossEntropy;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Training forward + backward of a {@link LlamaModel}, layer by layer, with optional activation checkpointing
 * (gradient checkpointing, Chen et al. 2016, arXiv:1604.06174; what {@code torch.utils.checkpoint} does per
 * decoder layer in transformers). DJL has no such API, so it is built from plain backward calls:
 * <ol>
 *   <li>run the decoder layers without a graph, keeping only each layer's input (detached);</li>
 *   <li>compute final norm, lm_head and loss with a graph from the last output and back-propagate: this gives
 *       the gradient {@code g} at the last layer's output;</li>
 *   <li>for each layer from last to first: recompute it with a graph from its saved input (made to require a
 *       gradient), back-propagate {@code sum(output · g)}, whose gradient with respect to the output is exactly
 *       {@code g}, and read the input's gradient as the next {@code g}.</li>
 * </ol>
 * Parameter gradients accumulate across these backward calls (libtorch adds into {@code .grad}; DJL's collector
 * never zeroes them). Dropout draws the same mask in the recompute as in the first pass because the engine RNG is
 * re-seeded per layer from {@code (rngSeed, layer)}, in both modes, so a checkpointed step equals a recorded one.
 * Every intermediate array lives in a per-layer {@code NDScope}; the saved inputs and gradients live in the
 * caller's scope. Packed rows (several sequences per row) use the same block-diagonal bias in the first pass and
 * in every recompute. A {@link TokenCrossEntropy} loss takes the fused head in both modes: only its scored rows go
 * through final norm and lm_head, chunk by chunk, so no {@code [B, T, vocab]} logits exist (the head segment of the
 * checkpointed mode is then never recomputed either: it is back-propagated chunk by chunk right away). Package-private: reached through {@link CausalLM#backward}.
 */
final class ActivationCheckpointing {
    private ActivationCheckpointing() {
    }

    /**
     * The token inputs of one training forward.
     *
     * @param ids       {@code [B, T]} int64 token ids
     * @param mask      {@code [B, T]} 0 = padding, else the 1-based sequence number (packed rows), or null
     * @param positions {@code [B, T]} rope positions, or null to derive them from the mask
     */
    record Inputs(NDArray ids, NDArray mask, NDArray positions) {
    }

    static float backward(LlamaModel model, Inputs in, Function<NDArray, NDArray> loss, boolean checkpoint,
                          long rngSeed) {
        return checkpoint ? checkpointed(model, in, loss, rngSeed) : recorded(model, in, loss, rngSeed);
    }

    /** The ordinary way: one graph over the whole model, one backward. */
    private static float recorded(LlamaModel model, Inputs tokens, Function<NDArray, NDArray> loss, long rngSeed) {
        DecoderLayer[] layers = model.decoderLayers();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = model.embed(tokens.ids());
            LlamaModel.LayerInputs in = model.trainingInputs(x, tokens.mask(), tokens.positions());
            for (int i = 0; i < layers.length; i++) {
                reseed(rngSeed, i);
                x = inLayerScope(layers[i], x, in);
            }
            reseed(rngSeed, layers.length);
            if (loss instanceof TokenCrossEntropy ce && ce.fused()) {
                return ce.backwardFused(gc, x, model::head);
            }
            NDArray value = loss.apply(model.head(x));
            gc.backward(value);
            return value.getFloat();
        }
    }

    private static float checkpointed(LlamaModel model, Inputs tokens, Function<NDArray, NDArray> loss,
                                      long rngSeed) {
        DecoderLayer[] layers = model.decoderLayers();
        NDArray[] saved = new NDArray[layers.length + 1];       // each [B, T, hidden], no graph
        saved[0] = withoutGraph(() -> model.embed(tokens.ids()));
        LlamaModel.LayerInputs in = model.trainingInputs(saved[0], tokens.mask(), tokens.positions());
        for (int i = 0; i < layers.length; i++) {
            int layer = i;
            reseed(rngSeed, i);
            saved[i + 1] = withoutGraph(() -> layers[layer].forward(saved[layer], in, null));
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            float[] value = new float[1];
            reseed(rngSeed, layers.length);
            NDArray g = loss instanceof TokenCrossEntropy ce && ce.fused()
                    ? fusedHeadBackward(gc, saved[layers.length], ce, model, value)
                    : segmentBackward(gc, saved[layers.length], x -> {
                        NDArray l = loss.apply(model.head(x));
                        value[0] = l.getFloat();
                        return l;
                    });
            for (int i = layers.length - 1; i >= 0; i--) {
                int layer = i;
                NDArray upstream = g;
                reseed(rngSeed, i);
                g = segmentBackward(gc, saved[i],
                        x -> layers[layer].forward(x, in, null).mul(upstream).sum());
                upstream.close();
            }
            embeddingBackward(gc, model, tokens.ids(), g);
            g.close();
            return value[0];
        }
    }

    /**
     * Makes {@code input} a leaf that requires a gradient, back-propagates the scalar {@code scalarOf(input)} inside
     * its own scope and returns the gradient at {@code input} (registered in the caller's scope); closes the input.
     */
    private static NDArray segmentBackward(GradientCollector gc, NDArray input, Function<NDArray, NDArray> scalarOf) {
        NDArray grad;
        try (NDScope scope = new NDScope()) {
            input.setRequiresGradient(true);
            gc.backward(scalarOf.apply(input));
            grad = input.getGradient();
            NDScope.unregister(grad);
        }
        NDScope.register(grad);
        input.close();
        return grad;
    }

    /**
     * The head segment with a fused loss: {@code input} (the last layer's saved output) becomes a leaf, the loss is
     * back-propagated chunk by chunk ({@link TokenCrossEntropy#backwardFused}) and the gradient at {@code input} is
     * returned (registered in the caller's scope); closes the input.
     */
    private static NDArray fusedHeadBackward(GradientCollector gc, NDArray input, TokenCrossEntropy loss,
                                             LlamaModel model, float[] value) {
        NDArray grad;
        try (NDScope scope = new NDScope()) {
            input.setRequiresGradient(true);
            value[0] = loss.backwardFused(gc, input, model::head);
            grad = input.getGradient();
            NDScope.unregister(grad);
        }
        NDScope.register(grad);
        input.close();
        return grad;
    }

    /** Gradient into a trainable embedding (e.g. a trainable copy), if any: back-propagates {@code sum(emb · g)}. */
    private static void embeddingBackward(GradientCollector gc, LlamaModel model, NDArray ids, NDArray g) {
        if (model.embeddingTable().hasGradient()) {    // (hasGradient of an op result is unreliable in DJL)
            try (NDScope scope = new NDScope()) {
                gc.backward(model.embed(ids).mul(g).sum());
            }
        }
    }

    /**
     * One layer of the recorded forward in its own scope: only the output's handle outlives it. The arrays autograd
     * saved for backward stay alive inside the graph (libtorch counts references); every other intermediate is
     * freed now instead of at the end of the step, as PyTorch frees a temporary when its last reference goes.
     */
    private static NDArray inLayerScope(DecoderLayer layer, NDArray x, LlamaModel.LayerInputs in) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            out = layer.forward(x, in, null);
            NDScope.unregister(out);
        }
        NDScope.register(out);
        return out;
    }

    /** Runs {@code f} and keeps only its result, detached from any graph; its intermediates are freed. */
    private static NDArray withoutGraph(Supplier<NDArray> f) {
        NDArray kept;
        try (NDScope scope = new NDScope()) {
            kept = f.get().stopGradient();
            NDScope.unregister(kept);
        }
        NDScope.register(kept);
        return kept;
    }

    private static void reseed(long rngSeed, int layer) {
        Engine.getInstance().setRandomSeed(CausalLM.segmentSeed(rngSeed, layer));
    }
}
