package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;

import java.util.ArrayList;
import java.util.List;

/**
 * P-tuning's LSTM prompt encoder as PEFT builds it: the virtual-token table {@code [P, H]} read as one sequence by a
 * bidirectional LSTM ({@code encoder_num_layers} layers of {@code encoder_hidden_size} E units per direction,
 * {@code encoder_dropout} between layers while training, torch's {@code nn.LSTM} semantics: gates i, f, g, o, both
 * biases, zero initial state), whose {@code [P, 2E]} output goes through Linear(2E, 2E) → ReLU → Linear(2E, H).
 * Initialised as torch does: LSTM weights and biases uniform in ±1/√E, Linear ones in ±1/√fan_in.
 *
 * <p>{@link #trainableParameters()} order: the table; then per layer and direction (forward, then backward)
 * {@code W_ih [4E, in]}, {@code W_hh [4E, E]}, {@code b_ih [4E]}, {@code b_hh [4E]} (torch's {@code weight_ih_l0},
 * {@code weight_hh_l0}, {@code bias_ih_l0}, {@code bias_hh_l0}, then the {@code _reverse} ones); then the two
 * Linear weights and biases.
 */
public final class LstmPromptEncoder extends PromptEncoder {
    private final int hidden;
    private final double dropout;
    private final NDArray[][] lstm;    // [layer * 2 + direction] = {W_ih, W_hh, b_ih, b_hh}
    private final NDArray[] head;      // W1 [2E, 2E], b1 [2E], W2 [H, 2E], b2 [H]

    public LstmPromptEncoder(NDManager parent, int virtualTokens, int dim, int hidden, int layers, double dropout,
                             long seed) {
        super(parent, virtualTokens, dim, seed);
        this.hidden = hidden;
        this.dropout = dropout;
        double bound = 1 / Math.sqrt(hidden);
        lstm = new NDArray[layers * 2][];
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? dim : 2 * hidden;
            for (int d = 0; d < 2; d++) {
                lstm[l * 2 + d] = new NDArray[] {uniform(new Shape(4L * hidden, in), bound),
                    uniform(new Shape(4L * hidden, hidden), bound), uniform(new Shape(4L * hidden), bound),
                    uniform(new Shape(4L * hidden), bound)};
            }
        }
        double headBound = 1 / Math.sqrt(2.0 * hidden);
        head = new NDArray[] {uniform(new Shape(2L * hidden, 2L * hidden), headBound),
            uniform(new Shape(2L * hidden), headBound), uniform(new Shape(dim, 2L * hidden), headBound),
            uniform(new Shape(dim), headBound)};
    }

    @Override
    public NDArray prompts(boolean training) {
        NDArray x = table;
        int layers = lstm.length / 2;
        for (int l = 0; l < layers; l++) {
            x = NDArrays.concat(new NDList(direction(x, lstm[l * 2], false), direction(x, lstm[l * 2 + 1], true)), 1);
            if (training && dropout > 0 && l + 1 < layers) {
                x = Dropout.dropout(x, (float) dropout, true).singletonOrThrow();
            }
        }
        x = Activation.relu(Linear.linear(x, head[0], head[1]).singletonOrThrow());
        return Linear.linear(x, head[2], head[3]).singletonOrThrow();
    }

    /** One direction of one layer over {@code x [P, in]}: the hidden states {@code [P, E]} in input order. */
    private NDArray direction(NDArray x, NDArray[] w, boolean reverse) {
        int steps = Math.toIntExact(x.getShape().get(0));
        NDArray inputGates = Linear.linear(x, w[0], w[2]).singletonOrThrow();     // [P, 4E], all steps at once
        NDArray h = x.getManager().zeros(new Shape(1, hidden));
        NDArray c = h;
        NDArray[] out = new NDArray[steps];
        for (int i = 0; i < steps; i++) {
            int t = reverse ? steps - 1 - i : i;
            NDArray gates = inputGates.get(new NDIndex("{}:{}", t, t + 1))
                    .add(Linear.linear(h, w[1], w[3]).singletonOrThrow());         // [1, 4E]
            NDList parts = gates.split(4, 1);
            NDArray input = Activation.sigmoid(parts.get(0));
            NDArray forget = Activation.sigmoid(parts.get(1));
            NDArray cell = parts.get(2).tanh();
            NDArray output = Activation.sigmoid(parts.get(3));
            c = forget.mul(c).add(input.mul(cell));
            h = output.mul(c.tanh());
            out[t] = h;
        }
        return NDArrays.concat(new NDList(out), 0);
    }

    @Override
    public List<NDArray> trainableParameters() {
        List<NDArray> rest = new ArrayList<>();
        for (NDArray[] w : lstm) {
            rest.addAll(List.of(w));
        }
        rest.addAll(List.of(head));
        return concat(table, rest);
    }
}
