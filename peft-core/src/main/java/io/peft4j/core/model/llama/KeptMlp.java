package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.LinearLayer;

/**
 * One decoder layer under selective checkpointing ({@link io.peft4j.core.model.SelectiveCheckpointing}): the
 * layer's output from the first pass, the frozen gate, up and down outputs kept from it, and the layer's backward,
 * which recomputes everything but those three products. It runs in four segments, each over its own leaves, so
 * no part of the graph is traversed twice:
 * <ol>
 *   <li>attention: recomputed from the saved input up to {@code x2 = x + o(attn(...))};</li>
 *   <li>{@code h2 = norm(x2)} over a leaf copy of {@code x2};</li>
 *   <li>SwiGLU: {@code act = silu(gate) · up} over a leaf copy of {@code h2}, the gate and up outputs being the kept
 *       frozen ones plus the adapters' deltas;</li>
 *   <li>down: the kept frozen output plus the adapters' delta over a leaf copy of {@code act}; the layer's output is
 *       {@code x2 + down}.</li>
 * </ol>
 * Back-propagation goes 4, 3, 2, 1, each step handing its root the gradient directly. The gradient at each segment's input is its leaf's (through the adapters) plus,
 * for the kept outputs, {@code g·W} through the frozen weights, formed by hand ({@link LinearLayer#frozenInputGradient});
 * the residual hands {@code x2} the layer's upstream gradient. Dropout draws stay in the first pass's order (gate,
 * up, down) because both passes call the projections in it.
 */
final class KeptMlp {
    private final NDArray output;   // the layer's output, detached
    private final NDArray gate;     // frozen part of gate_proj(h2), [B, T, intermediate], detached
    private final NDArray up;       // frozen part of up_proj(h2)
    private final NDArray down;     // frozen part of down_proj(act), [B, T, hidden]

    private KeptMlp(NDArray output, NDArray gate, NDArray up, NDArray down) {
        this.output = output;
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    /**
     * The first pass of {@code layer} over {@code x} without a graph, keeping the frozen MLP outputs; its arrays are
     * registered in the caller's scope. The layer must {@link DecoderLayer#mlpSplits() split}.
     */
    static KeptMlp firstPass(DecoderLayer layer, NDArray x, LlamaModel.LayerInputs in) {
        LinearLayer gateProj = layer.gateProjection();
        LinearLayer upProj = layer.upProjection();
        LinearLayer downProj = layer.downProjection();
        NDArray[] kept = new NDArray[4];
        try (NDScope scope = new NDScope()) {
            NDArray x2 = layer.attentionResidual(x, in, null);
            NDArray h2 = layer.postAttnNorm().forward(x2);
            NDArray g = gateProj.frozenPart().forward(h2).stopGradient();
            NDArray u = upProj.frozenPart().forward(h2).stopGradient();
            NDArray act = DecoderLayer.swiGlu(gateProj.forwardAfterFrozen(h2, g),
                    () -> upProj.forwardAfterFrozen(h2, u));
            NDArray d = downProj.frozenPart().forward(act).stopGradient();
            kept[0] = x2.add(downProj.forwardAfterFrozen(act, d)).stopGradient();
            kept[1] = g;
            kept[2] = u;
            kept[3] = d;
            NDScope.unregister(kept);
        }
        for (NDArray a : kept) {
            NDScope.register(a);
        }
        return new KeptMlp(kept[0], kept[1], kept[2], kept[3]);
    }

    /** The layer's output from the first pass (detached). */
    NDArray output() {
        return output;
    }

    /**
     * Back-propagates {@code upstream} (the gradient at the layer's output) through {@code layer} from its saved
     * {@code input}, inside the open gradient collector, and returns the gradient at the input (registered in the
     * caller's scope). Parameter gradients accumulate; closes {@code input} and the kept arrays.
     */
    NDArray backward(DecoderLayer layer, NDArray input, LlamaModel.LayerInputs in,
                     NDArray upstream) {
        LinearLayer gateProj = layer.gateProjection();
        LinearLayer upProj = layer.upProjection();
        LinearLayer downProj = layer.downProjection();
        NDArray grad = ActivationCheckpointing.gradientAt(input, x -> {
            NDArray x2 = layer.attentionResidual(x, in, null);                      // segment 1
            NDArray x2Leaf = leaf(x2);                                              // segment 2
            NDArray h2 = layer.postAttnNorm().forward(x2Leaf);
            NDArray h2Leaf = leaf(h2);                                              // segment 3
            gate.setRequiresGradient(true);
            up.setRequiresGradient(true);
            NDArray g = gateProj.forwardAfterFrozen(h2Leaf, gate);
            NDArray[] u = new NDArray[1];
            NDArray act = DecoderLayer.swiGlu(g, () -> u[0] = upProj.forwardAfterFrozen(h2Leaf, up));
            NDArray actLeaf = leaf(act);                                            // segment 4
            NDArray d = downProj.forwardAfterFrozen(actLeaf, down);

            NDArray dAct = downProj.frozenPart().frozenInputGradient(upstream);
            if (d != down) {                        // adapters on down: back-propagate their delta
                ActivationCheckpointing.backward(d, upstream);
                dAct = dAct.add(actLeaf.getGradient());
            }
            ActivationCheckpointing.backward(act, dAct);
            NDArray dh2 = gateProj.frozenPart().frozenInputGradient(gate.getGradient())
                    .add(upProj.frozenPart().frozenInputGradient(up.getGradient()));
            if (g != gate || u[0] != up) {          // adapters on gate or up read h2: its leaf got a gradient
                dh2 = dh2.add(h2Leaf.getGradient());
            }
            ActivationCheckpointing.backward(h2, dh2);
            ActivationCheckpointing.backward(x2, x2Leaf.getGradient().add(upstream));   // norm's and residual's
        });
        gate.close();
        up.close();
        down.close();
        return grad;
    }

    /** {@code a} detached from its graph as a new leaf that requires a gradient (it shares {@code a}'s storage). */
    private static NDArray leaf(NDArray a) {
        NDArray l = a.stopGradient();
        l.setRequiresGradient(true);
        return l;
    }
}
