package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.model.CausalLM;

import java.util.List;
import java.util.Random;

/** PEFT's {@code PromptEmbedding} initialisation: token ids for TEXT and SAMPLE_VOCAB, and their embedding rows. */
public final class InitTokens {
    private InitTokens() {
    }

    /**
     * {@code textIds} fitted to {@code total} virtual tokens exactly as PEFT does: truncated when longer, else
     * repeated {@code ceil(total / n)} times and truncated.
     */
    public static long[] fit(List<Integer> textIds, int total) {
        if (textIds.isEmpty()) {
            throw new IllegalArgumentException("prompt_tuning_init_text has no tokens");
        }
        long[] out = new long[total];
        for (int i = 0; i < total; i++) {
            out[i] = textIds.get(i % textIds.size());
        }
        return out;
    }

    /** {@code total} token ids drawn uniformly from {@code [0, vocab)} with a seeded generator (SAMPLE_VOCAB). */
    public static long[] sample(int vocab, int total, long seed) {
        Random rng = new Random(seed);
        long[] out = new long[total];
        for (int i = 0; i < total; i++) {
            out[i] = rng.nextInt(vocab);
        }
        return out;
    }

    /** Standard normal values {@code [total * dim]} from a seeded generator (RANDOM, torch's Embedding default). */
    public static float[] normal(int total, int dim, long seed) {
        Random rng = new Random(seed);
        float[] out = new float[total * dim];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) rng.nextGaussian();
        }
        return out;
    }

    /** A copy of the model's embedding rows for {@code ids}: {@code [ids.length * hidden]} floats. */
    public static float[] rows(CausalLM model, long[] ids) {
        int vocab = model.config().vocabSize();
        for (long id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("init token id " + id + " is outside the vocabulary of " + vocab);
            }
        }
        try (NDManager m = model.manager().newSubManager(); NDScope scope = new NDScope()) {
            NDArray idArray = m.create(ids, new Shape(1, ids.length));
            return model.embed(idArray).toFloatArray();
        }
    }
}
