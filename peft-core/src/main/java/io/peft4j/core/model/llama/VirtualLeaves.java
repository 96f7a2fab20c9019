package io.peft4j.core.model.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.peft4j.core.model.VirtualTokens;
import io.peft4j.core.model.block.KeyValues;
import io.peft4j.core.model.block.PrefixKeyValues;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A training step's virtual tokens twice: as computed (in the graph of the soft prompt's trainable arrays) and as
 * detached leaves that the layer-by-layer training path reads. The layers' backward calls fill the leaves'
 * gradients, possibly over several calls (activation checkpointing recomputes each layer); {@link #backward} then
 * carries them into the soft prompt with one more call, {@code sum(computed · leaf gradient)}. So the prompt's
 * graph (an MLP or LSTM encoder for P-tuning, a projection for prefix tuning) is traversed once per step whatever
 * the mode. Package-private: used by {@link ActivationCheckpointing}.
 */
final class VirtualLeaves {
    private final List<NDArray> computed;
    private final List<NDArray> leaves;
    private final VirtualTokens leafTokens;

    private VirtualLeaves(List<NDArray> computed, List<NDArray> leaves, VirtualTokens leafTokens) {
        this.computed = computed;
        this.leaves = leaves;
        this.leafTokens = leafTokens;
    }

    /** Calls {@code virtual} inside a gradient collector of its own, with the engine RNG seeded to {@code seed}. */
    static VirtualLeaves compute(Supplier<VirtualTokens> virtual, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        VirtualTokens v;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            v = virtual.get();
        }
        List<NDArray> computed = new ArrayList<>();
        List<NDArray> leaves = new ArrayList<>();
        if (v.inputEmbeddings() != null) {
            return new VirtualLeaves(computed, leaves, new VirtualTokens(leaf(v.inputEmbeddings(), computed, leaves),
                    null));
        }
        PrefixKeyValues prefix = v.attentionPrefix();
        List<KeyValues> layers = new ArrayList<>(prefix.layers().size());
        for (KeyValues kv : prefix.layers()) {
            layers.add(new KeyValues(leaf(kv.keys(), computed, leaves), leaf(kv.values(), computed, leaves)));
        }
        return new VirtualLeaves(computed, leaves, new VirtualTokens(null, new PrefixKeyValues(layers, prefix.mask())));
    }

    private static NDArray leaf(NDArray computedArray, List<NDArray> computed, List<NDArray> leaves) {
        NDArray leaf = computedArray.stopGradient();
        leaf.setRequiresGradient(true);
        computed.add(computedArray);
        leaves.add(leaf);
        return leaf;
    }

    /** The virtual tokens the layers read: leaves that collect gradients. */
    VirtualTokens leaves() {
        return leafTokens;
    }

    /** Back-propagates the leaves' gradients into the soft prompt (nothing when no leaf got a gradient). */
    void backward(GradientCollector gc) {
        try (NDScope scope = new NDScope()) {
            NDArray total = null;
            for (int i = 0; i < leaves.size(); i++) {
                NDArray grad = gradientOrNull(leaves.get(i));
                if (grad != null) {
                    NDArray term = computed.get(i).mul(grad).sum();
                    total = total == null ? term : total.add(term);
                }
            }
            if (total != null) {
                gc.backward(total);
            }
        }
    }

    /** DJL throws for a leaf that no backward reached (e.g. a micro-batch with no trained position). */
    private static NDArray gradientOrNull(NDArray leaf) {
        try {
            return leaf.getGradient();
        } catch (IllegalStateException noGradient) {
            return null;
        }
    }
}
