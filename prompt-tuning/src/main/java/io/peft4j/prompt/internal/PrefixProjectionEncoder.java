package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

import java.util.List;

/**
 * Prefix tuning's projection as PEFT builds it ({@code PrefixEncoder} with {@code prefix_projection}): a
 * virtual-token table {@code [P, token_dim]} fed through Linear(token_dim, E) → tanh → Linear(E, layers·2·token_dim),
 * torch's default {@code nn.Linear} init; {@code init_weights="zero"} zeroes the last layer, so the prefix starts at
 * zero. Saved, like P-tuning's encoders, as its output.
 */
public final class PrefixProjectionEncoder extends PromptEncoder {
    private final NDArray[] weights;   // [E, token_dim], [width, E]
    private final NDArray[] biases;    // [E], [width]

    public PrefixProjectionEncoder(NDManager parent, int virtualTokens, int tokenDim, int hidden, int width,
                                   boolean zeroInit, long seed) {
        super(parent, virtualTokens, tokenDim, seed);
        weights = new NDArray[] {uniform(new Shape(hidden, tokenDim), 1 / Math.sqrt(tokenDim)), null};
        biases = new NDArray[] {uniform(new Shape(hidden), 1 / Math.sqrt(tokenDim)), null};
        if (zeroInit) {
            weights[1] = param(new float[width * hidden], new Shape(width, hidden));
            biases[1] = param(new float[width], new Shape(width));
        } else {
            weights[1] = uniform(new Shape(width, hidden), 1 / Math.sqrt(hidden));
            biases[1] = uniform(new Shape(width), 1 / Math.sqrt(hidden));
        }
    }

    @Override
    public NDArray prompts(boolean training) {
        NDArray h = Activation.tanh(Linear.linear(table, weights[0], biases[0]).singletonOrThrow());
        return Linear.linear(h, weights[1], biases[1]).singletonOrThrow();
    }

    @Override
    public List<NDArray> trainableParameters() {
        return concat(table, List.of(weights[0], biases[0], weights[1], biases[1]));
    }
}
