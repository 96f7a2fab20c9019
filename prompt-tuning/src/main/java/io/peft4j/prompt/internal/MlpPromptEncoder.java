package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * P-tuning's MLP prompt encoder as PEFT builds it: a trainable table {@code [P, H]} (torch {@code nn.Embedding},
 * standard normal) fed through Linear(H, E) → ReLU → Linear(E, E) → ReLU → Linear(E, H) (torch's default
 * {@code nn.Linear} init: weights and biases uniform in ±1/√fan_in). {@link #stateDict()} is what PEFT saves: the
 * encoder's output, computed when asked. Loading saved values into a training encoder is refused, because the file
 * does not hold the encoder.
 */
public final class MlpPromptEncoder implements PromptSource {
    private final NDManager manager;
    private final NDArray table;       // [P, H]
    private final NDArray[] weights;   // [E, H], [E, E], [H, E]
    private final NDArray[] biases;    // [E], [E], [H]
    private NDArray saved;             // [P, H], last stateDict() output

    public MlpPromptEncoder(NDManager parent, int virtualTokens, int dim, int hidden, long seed) {
        this.manager = parent.newSubManager();
        Random rng = new Random(seed);
        float[] t = new float[virtualTokens * dim];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) rng.nextGaussian();
        }
        this.table = param(t, new Shape(virtualTokens, dim));
        int[][] shapes = {{hidden, dim}, {hidden, hidden}, {dim, hidden}};
        weights = new NDArray[3];
        biases = new NDArray[3];
        for (int l = 0; l < 3; l++) {
            int out = shapes[l][0];
            int in = shapes[l][1];
            double bound = 1 / Math.sqrt(in);
            weights[l] = param(uniform(rng, out * in, bound), new Shape(out, in));
            biases[l] = param(uniform(rng, out, bound), new Shape(out));
        }
    }

    private NDArray param(float[] values, Shape shape) {
        NDArray a = manager.create(values, shape);
        a.setRequiresGradient(true);
        return a;
    }

    private static float[] uniform(Random rng, int n, double bound) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return out;
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
        List<NDArray> out = new ArrayList<>();
        out.add(table);
        for (int l = 0; l < 3; l++) {
            out.add(weights[l]);
            out.add(biases[l]);
        }
        return out;
    }

    @Override
    public long parameterCount() {
        return trainableParameters().stream().mapToLong(NDArray::size).sum();
    }

    /** {@code prompt_embeddings}: the encoder's current output (a fresh copy owned by this encoder). */
    @Override
    public Map<String, NDArray> stateDict() {
        if (saved != null) {
            saved.close();
        }
        try (NDScope scope = new NDScope()) {
            saved = prompts(false).duplicate();
            saved.attach(manager);
            NDScope.unregister(saved);
        }
        return Map.of(PromptTable.KEY, saved);
    }

    @Override
    public void onStateLoaded() {
        throw new IllegalStateException("a P_TUNING adapter being trained cannot load saved weights: PEFT's file holds "
                + "only the encoder's output (load it with PeftModel.loadAdapter instead)");
    }

    @Override
    public void close() {
        manager.close();
    }
}
