package io.peft4j.core.train.internal;

import io.peft4j.core.model.CausalLM;

/**
 * Where the randomness of a {@link io.peft4j.core.train.Trainer} run comes from, in one place so that the code and what
 * {@link TrainerCheckpoint} records cannot drift apart: data order from {@code seed + epoch} ({@link BatchOrder}),
 * and dropout from the micro-batch seed {@link #microBatch}, which the model turns into one engine seed per
 * segment with {@link CausalLM#segmentSeed}.
 */
public final class RngSeeds {
    /** The rules below as written into {@code trainer_state.json}. */
    public static final String DESCRIPTION = "data order = shuffle(examples, java.util.Random(seed + epoch)); "
            + "micro-batch seed = (seed * 1000003 + step) * 1009 + micro (step = optimizer steps done, micro = "
            + "0-based micro-batch of the step); engine (dropout) seed of a segment = "
            + "CausalLM.segmentSeed(micro-batch seed, segment), segment -1 = whole model, L = decoder layer L, "
            + "num_layers = head";

    private RngSeeds() {
    }

    /** The dropout seed of micro-batch {@code micro} of the step that follows {@code stepsDone} steps. */
    public static long microBatch(long seed, int stepsDone, int micro) {
        return (seed * 1_000_003L + stepsDone) * 1_009L + micro;
    }
}
