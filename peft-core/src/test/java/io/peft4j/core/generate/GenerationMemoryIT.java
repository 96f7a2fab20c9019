package io.peft4j.core.generate;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.NativeMemory;
import io.peft4j.core.testing.NativeMemoryTrend;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No per-step native memory growth over 1,000 sampled generation steps (20 measured rounds of 50 new tokens,
 * 2 prompts):
 * every step's arrays are freed by its NDScope. After {@value #WARM_UP_ROUNDS} warm-up rounds it samples every
 * {@value #EVERY} tokens the bytes {@code malloc} holds and the resident memory outside the Java heap
 * ({@link NativeMemory}); their {@link NativeMemoryTrend} slopes must stay under {@value #MALLOC_BOUND_KB_PER_STEP}
 * and {@value #RSS_BOUND_KB_PER_STEP} kB per step (the bounds and reasons of {@code LoraMemoryIT}: a 10 kB/step leak
 * fails the first, allocator noise fails neither; see docs/djl-notes.md).
 */
class GenerationMemoryIT {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationMemoryIT.class);
    private static final int ROUNDS = 25;
    private static final int WARM_UP_ROUNDS = 5;
    private static final int EVERY = 5;
    private static final double MALLOC_BOUND_KB_PER_STEP = 5;
    private static final double RSS_BOUND_KB_PER_STEP = 20;

    @Test
    void generate_thousandSteps_nativeSlopeUnderBound() {
        ModelConfig config = new ModelConfig("LlamaForCausalLM", "llama", 1024, 128, 352, 2, 4, 2, 32, 1e-5,
                10000.0, ModelConfig.RopeScaling.NONE, 2048, true, false, -1, -1);
        NativeMemoryTrend trend = new NativeMemoryTrend();
        int steps = 0;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(config, 1, m)) {
            Generator generator = new Generator(model);
            GenerationConfig sampled = GenerationConfig.builder().optMaxNewTokens(50).optTemperature(1.0)
                    .optTopP(0.9).optEosTokenIds(List.of(-2)).build();
            int[][] prompts = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11}};
            int[] done = {0};
            for (int round = 0; round < ROUNDS; round++) {
                boolean measured = round >= WARM_UP_ROUNDS;
                steps += generator.generateIds(prompts, sampled.withSampling(1.0, 0, 0.9, round),
                        (row, token, text) -> {
                            if (row == 0 && ++done[0] % EVERY == 0 && measured) {
                                trend.sample(done[0]);
                            }
                        }).tokens().get(0).length;
            }
        }
        LOG.warn("generation memory: {} steps, {}", steps, trend.summary());
        assertTrue(steps >= 1250, "steps " + steps);
        trend.assertSlopesBelow(MALLOC_BOUND_KB_PER_STEP, RSS_BOUND_KB_PER_STEP);
    }
}
