package io.peft4j.core.generate;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Native memory (VmRSS) stays flat over 1,000 generation steps: every step's arrays are freed by its NDScope. */
class GenerationMemoryIT {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationMemoryIT.class);

    @Test
    void generate_thousandSteps_rssFlatAfterWarmUp() {
        ModelConfig config = new ModelConfig("LlamaForCausalLM", "llama", 1024, 128, 352, 2, 4, 2, 32, 1e-5,
                10000.0, ModelConfig.RopeScaling.NONE, 2048, true, false, -1, -1);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(config, 1, m)) {
            Generator generator = new Generator(model);
            GenerationConfig sampled = GenerationConfig.builder().optMaxNewTokens(50).optTemperature(1.0)
                    .optTopP(0.9).optEosTokenIds(java.util.List.of(-2)).build();
            int[][] prompts = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11}};
            long[] warm = null;
            int steps = 0;
            for (int round = 0; round < 20; round++) {
                steps += generator.generateIds(prompts, sampled.withSampling(1.0, 0, 0.9, round), TokenListener.NONE)
                        .tokens().get(0).length;
                if (round == 4) {
                    warm = settledMemoryKb();
                }
            }
            long[] end = settledMemoryKb();
            // heap pages the JVM keeps committed are not native memory: count only RSS beyond the committed heap
            long nativeGrowth = (end[0] - end[1]) - (warm[0] - warm[1]);
            double growth = nativeGrowth / (double) warm[0];
            LOG.warn("generation memory: {} steps, RSS after warm-up {} MB (heap {} MB), at end {} MB (heap {} MB): "
                    + "native growth {}%", steps, warm[0] >> 10, warm[1] >> 10, end[0] >> 10, end[1] >> 10,
                    String.format("%.2f", growth * 100));
            assertTrue(steps >= 1000, "steps " + steps);
            assertTrue(growth < 0.05, "native memory grew " + (nativeGrowth >> 10) + " MB over " + (warm[0] >> 10)
                    + " MB");
        }
    }

    /** {VmRSS, committed Java heap} in KiB after a full GC. */
    private static long[] settledMemoryKb() {
        System.gc();
        long rss = ProcessMemory.rssBytes().orElseThrow(() -> new IllegalStateException("no VmRSS (not Linux?)"));
        return new long[] {rss >> 10, Runtime.getRuntime().totalMemory() >> 10};
    }
}
