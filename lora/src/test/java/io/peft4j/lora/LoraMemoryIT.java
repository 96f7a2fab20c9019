package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.LlamaModel;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Native memory stays flat over 500 LoRA training steps on a tiny model (every step in an NDScope). */
class LoraMemoryIT {

    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void train500Steps_rssGrowthUnderFivePercent() throws Exception {
        long[] rss = new long[2];
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 1L);
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(500).optBatchSize(4).optLearningRate(1e-3)
                    .optGradAccum(2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        try {
                            if (s.step() == 100) {
                                System.gc();
                                rss[0] = rssKb();
                            } else if (s.step() == 500) {
                                System.gc();
                                rss[1] = rssKb();
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
        System.err.printf("RSS at step 100: %d kB, at step 500: %d kB, growth %.2f%%%n", rss[0], rss[1], 100 * growth);
        assertTrue(growth < 0.05, "RSS grew " + 100 * growth + "% from step 100 to 500");
    }
}
