package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.LlamaModel;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native memory stays flat over 500 LoRA training steps (100 -> 600, after warm-up) on a tiny model: resident memory
 * outside the Java heap grows less than 5 %. Every step runs in an NDScope.
 */
class LoraMemoryIT {

    /** Resident memory outside the Java heap: RSS minus the heap the JVM has committed (GC sawtooth removed). */
    static long nativeKb() throws Exception {
        System.gc();
        return rssKb() - Runtime.getRuntime().totalMemory() / 1024;
    }

    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Disabled("known open problem (issue 6): native RSS grows ~50% from step 100 to 600 (208 -> 314 MB) and levels "
            + "off near 390 MB after step 1000; not yet shown to be allocator caching rather than a leak")
    @Test
    void train500Steps_nativeRssGrowthUnderFivePercent() throws Exception {
        long[] rss = new long[2];
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 1L);
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(600).optBatchSize(4).optLearningRate(5e-4)
                    .optGradAccum(2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        try {
                            if (s.step() == 100) {
                                rss[0] = nativeKb();
                            } else if (s.step() == 600) {
                                rss[1] = nativeKb();
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                });
                t.train(LoraTrainingTest.data(64, 4), null);
            }
        }
        double growth = (rss[1] - rss[0]) / (double) rss[0];
        System.err.printf("native RSS (RSS - committed heap) at step 100: %d kB, at step 600: %d kB, growth %.2f%%%n", rss[0], rss[1], 100 * growth);
        assertTrue(growth < 0.05, "native RSS grew " + 100 * growth + "% over 500 steps (100 -> 600)");
    }
}
