package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What the prompt encoders share (P-tuning's MLP and LSTM, PEFT's {@code PromptEncoder}, and prefix tuning's
 * projection): a trainable virtual-token table {@code [P, H]} (torch {@code nn.Embedding}: standard normal) that a subclass's network turns into the prompts,
 * parameters created the way torch initialises them, and saving as PEFT does: {@link #stateDict()} is the encoder's
 * output ({@code prompt_embeddings}), computed when asked. Loading saved values into a training encoder is refused,
 * because the file does not hold the encoder.
 */
abstract class PromptEncoder implements PromptSource {
    final NDManager manager;
    final Random rng;
    final NDArray table;       // [P, H]
    private NDArray saved;     // [P, H], last stateDict() output

    PromptEncoder(NDManager parent, int virtualTokens, int dim, long seed) {
        this.manager = parent.newSubManager();
        this.rng = new Random(seed);
        float[] t = new float[virtualTokens * dim];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) rng.nextGaussian();
        }
        this.table = param(t, new Shape(virtualTokens, dim));
    }

    /** A trainable array owned by this encoder. */
    final NDArray param(float[] values, Shape shape) {
        NDArray a = manager.create(values, shape);
        a.setRequiresGradient(true);
        return a;
    }

    /** A trainable array of {@code shape} drawn uniformly from ±{@code bound} (torch's Linear and LSTM init). */
    final NDArray uniform(Shape shape, double bound) {
        float[] out = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return param(out, shape);
    }

    @Override
    public final long parameterCount() {
        return trainableParameters().stream().mapToLong(NDArray::size).sum();
    }

    /** {@code prompt_embeddings}: the encoder's current output (a fresh copy owned by this encoder). */
    @Override
    public final Map<String, NDArray> stateDict() {
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

    /** The file holds the encoder's output: a training checkpoint also keeps the encoder's own parameters. */
    @Override
    public final boolean savedFormIsTrainingState() {
        return false;
    }

    @Override
    public final void onStateLoaded() {
        throw new IllegalStateException("a prompt encoder being trained (P_TUNING, or PREFIX_TUNING with "
                + "prefix_projection) cannot load saved weights: PEFT's file holds only the encoder's output (load "
                + "it with PeftModel.loadAdapter instead; a training checkpoint restores the encoder from its training_state.safetensors)");
    }

    @Override
    public final void close() {
        manager.close();
    }

    /** The arrays of {@code first} and then {@code rest}, in order. */
    static List<NDArray> concat(NDArray first, List<NDArray> rest) {
        List<NDArray> out = new java.util.ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }
}
