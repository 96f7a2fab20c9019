package io.peft4j.core.model.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.model.SelectiveCheckpointing;
import io.peft4j.core.model.TokenCrossEntropy;
import io.peft4j.core.model.VirtualTokens;

import java.util.function.Consumer;
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
 *       gradient), back-propagate {@code g} from its output ({@code JniUtils.backward(output, g)}), and read the
 *       input's gradient as the next {@code g}.</li>
 * </ol>
 * With {@link SelectiveCheckpointing} on, step 1 also keeps each layer's frozen MLP outputs and step 3 recomputes
 * only the rest ({@link KeptMlp}).
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
     * @param virtual   the step's virtual tokens (a soft prompt), or null; never together with {@code positions}
     */
    record Inputs(NDArray ids, NDArray mask, NDArray positions, Supplier<VirtualTokens> virtual) {
    }

    static float backward(LlamaModel model, Inputs in, Function<NDArray, NDArray> loss, boolean checkpoint,
                          long rngSeed) {
        if (in.virtual() != null && in.positions() != null) {
            throw new UnsupportedOperationException("packed rows (position ids) with virtual tokens");
        }
        VirtualLeaves virtual = in.virtual() == null ? null
                : VirtualLeaves.compute(in.virtual(), CausalLM.segmentSeed(rngSeed, model.decoderLayers().length + 1));
        if (virtual != null) {
            ContextWindowException.check(model.config(), virtual.leaves().length()
                    + Math.toIntExact(in.ids().getShape().get(1)), "virtual tokens plus training sequence");
        }
        return checkpoint ? checkpointed(model, in, virtual, loss, rngSeed)
                : recorded(model, in, virtual, loss, rngSeed);
    }

    /** The ordinary way: one graph over the whole model, one backward. */
    private static float recorded(LlamaModel model, Inputs tokens, VirtualLeaves virtual,
                                  Function<NDArray, NDArray> loss, long rngSeed) {
        DecoderLayer[] layers = model.decoderLayers();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = embedded(model, tokens, virtual);
            LlamaModel.LayerInputs in = layerInputs(model, x, tokens, virtual);
            for (int i = 0; i < layers.length; i++) {
                reseed(rngSeed, i);
                NDArray input = x;
                DecoderLayer layer = layers[i];
                x = keptFromScope(() -> layer.forward(input, in, null));
            }
            reseed(rngSeed, layers.length);
            x = withoutVirtualPositions(x, virtual);
            float value;
            if (loss instanceof TokenCrossEntropy ce && ce.fused()) {
                value = ce.backwardFused(gc, x, model::head);
            } else {
                NDArray l = loss.apply(model.head(x));
                gc.backward(l);
                value = l.getFloat();
            }
            if (virtual != null) {
                virtual.backward(gc);
            }
            return value;
        }
    }

    private static float checkpointed(LlamaModel model, Inputs tokens, VirtualLeaves virtual,
                                      Function<NDArray, NDArray> loss, long rngSeed) {
        DecoderLayer[] layers = model.decoderLayers();
        NDArray[] saved = new NDArray[layers.length + 1];       // each [B, P + T, hidden], no graph
        KeptMlp[] kept = new KeptMlp[layers.length];            // selective: frozen MLP outputs, else null
        saved[0] = withoutGraph(() -> embedded(model, tokens, virtual));
        LlamaModel.LayerInputs in = layerInputs(model, saved[0], tokens, virtual);
        boolean selective = SelectiveCheckpointing.isOn();
        for (int i = 0; i < layers.length; i++) {
            int layer = i;
            reseed(rngSeed, i);
            if (selective && layers[i].mlpSplits()) {
                kept[i] = KeptMlp.firstPass(layers[i], saved[i], in);
                saved[i + 1] = kept[i].output();
            } else {
                saved[i + 1] = withoutGraph(() -> layers[layer].forward(saved[layer], in, null));
            }
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            float[] value = new float[1];
            reseed(rngSeed, layers.length);
            NDArray g = gradientAt(saved[layers.length], loss instanceof TokenCrossEntropy ce && ce.fused()
                    ? x -> value[0] = ce.backwardFused(gc, withoutVirtualPositions(x, virtual), model::head)
                    : x -> {
                        NDArray l = loss.apply(model.head(withoutVirtualPositions(x, virtual)));
                        value[0] = l.getFloat();
                        gc.backward(l);
                    });
            for (int i = layers.length - 1; i >= 0; i--) {
                int layer = i;
                NDArray upstream = g;
                reseed(rngSeed, i);
                g = kept[i] != null ? kept[i].backward(layers[i], saved[i], in, upstream)
                        : gradientAt(saved[i], x -> backward(layers[layer].forward(x, in, null), upstream));
                upstream.close();
            }
            inputBackward(model, tokens, virtual, g);
            g.close();
            if (virtual != null) {
                virtual.backward(gc);
            }
            return value[0];
        }
    }

    /**
     * Makes {@code input} a leaf that requires a gradient, runs {@code backprop} on it inside its own scope (one
     * segment: a layer recomputed, or the head and loss) and returns the gradient at {@code input} (registered in the
     * caller's scope); closes the input.
     */
    static NDArray gradientAt(NDArray input, Consumer<NDArray> backprop) {
        NDArray grad;
        try (NDScope scope = new NDScope()) {
            input.setRequiresGradient(true);
            backprop.accept(input);
            grad = input.getGradient();
            NDScope.unregister(grad);
        }
        NDScope.register(grad);
        input.close();
        return grad;
    }

    /**
     * Back-propagates the gradient {@code grad} at {@code root} (same shape) inside the open collector: what
     * {@code backward(sum(root · grad))} gives, without forming that product and its gradient.
     */
    static void backward(NDArray root, NDArray grad) {
        JniUtils.backward((PtNDArray) root, (PtNDArray) grad, false, false);
    }

    /**
     * Gradient {@code g} at the layers' input into what made it: a trainable embedding (e.g. a trainable copy) and the
     * virtual input rows, if any; back-propagates {@code g} from the recomputed input.
     */
    private static void inputBackward(LlamaModel model, Inputs tokens, VirtualLeaves virtual, NDArray g) {
        boolean rows = virtual != null && virtual.leaves().inputEmbeddings() != null;
        if (rows || model.embedding().trainable()) {    // (hasGradient of an op result is unreliable in DJL)
            try (NDScope scope = new NDScope()) {
                backward(embedded(model, tokens, virtual), g);
            }
        }
    }

    /** The layers' input: token embeddings, after the virtual input rows if any ({@code [B, P + T, hidden]}). */
    private static NDArray embedded(LlamaModel model, Inputs tokens, VirtualLeaves virtual) {
        NDArray x = model.embed(tokens.ids());
        return virtual == null ? x : virtual.leaves().prepend(x);
    }

    /** Rope tables and bias over {@code x}: the virtual rows' positions come first, a prefix is a real past. */
    private static LlamaModel.LayerInputs layerInputs(LlamaModel model, NDArray x, Inputs tokens,
                                                      VirtualLeaves virtual) {
        if (virtual == null) {
            return model.trainingInputs(x, tokens.mask(), tokens.positions());
        }
        VirtualTokens v = virtual.leaves();
        if (v.attentionPrefix() != null) {
            return model.prefixInputs(x, tokens.mask(), v.attentionPrefix());
        }
        return model.trainingInputs(x, v.prepend(tokens.mask(), x.getManager()), null);
    }

    /** The last layer's output at the input's positions only ({@code [B, T, hidden]}). */
    private static NDArray withoutVirtualPositions(NDArray x, VirtualLeaves virtual) {
        int p = virtual == null ? 0 : virtual.leaves().addedPositions();
        return p == 0 ? x : x.get(new NDIndex(":, " + p + ":, :"));
    }

    /**
     * Runs {@code f} in its own scope and keeps only its result (registered in the caller's scope). In a recorded
     * forward the arrays autograd saved stay alive inside the graph (libtorch counts references); every other
     * intermediate is freed now instead of at the end of the step, as PyTorch frees a temporary at its last use.
     */
    private static NDArray keptFromScope(Supplier<NDArray> f) {
        NDArray kept;
        try (NDScope scope = new NDScope()) {
            kept = f.get();
            NDScope.unregister(kept);
        }
        NDScope.register(kept);
        return kept;
    }

    /** Runs {@code f} and keeps only its result, detached from any graph; its intermediates are freed. */
    private static NDArray withoutGraph(Supplier<NDArray> f) {
        return keptFromScope(() -> f.get().stopGradient());
    }

    private static void reseed(long rngSeed, int layer) {
        Engine.getInstance().setRandomSeed(CausalLM.segmentSeed(rngSeed, layer));
    }
}
