package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

import java.util.ArrayList;
import java.util.List;

/**
 * P-tuning's MLP prompt encoder as PEFT builds it: the virtual-token table {@code [P, H]} fed through
 * Linear(H, E) → ReLU → Linear(E, E) → ReLU → Linear(E, H) (torch's default {@code nn.Linear} init: weights and
 * biases uniform in ±1/√fan_in). PEFT ignores {@code encoder_num_layers} and {@code encoder_dropout} here, and so
 * does this class.
 */
public final class MlpPromptEncoder extends PromptEncoder {
    private final NDArray[] weights;   // [E, H], [E, E], [H, E]
    private final NDArray[] biases;    // [E], [E], [H]

    public MlpPromptEncoder(NDManager parent, int virtualTokens, int dim, int hidden, long seed) {
        super(parent, virtualTokens, dim, seed);
        int[][] shapes = {{hidden, dim}, {hidden, hidden}, {dim, hidden}};
        weights = new NDArray[3];
        biases = new NDArray[3];
        for (int l = 0; l < 3; l++) {
            int out = shapes[l][0];
            int in = shapes[l][1];
            double bound = 1 / Math.sqrt(in);
            weights[l] = uniform(new Shape(out, in), bound);
            biases[l] = uniform(new Shape(out), bound);
        }
    }

    @Override
    public NDArray prompts(boolean training) {
        NDArray x = table;
        for (int l = 0; l < 3; l++) {
            x = Linear.linear(x, weights[l], biases[l]).singletonOrThrow();
            if (l < 2) {
                x = Activation.relu(x);
            }
        }
        return x;
    }

    @Override
    public List<NDArray> trainableParameters() {
        List<NDArray> rest = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            rest.add(weights[l]);
            rest.add(biases[l]);
        }
        return concat(table, rest);
    }
}
