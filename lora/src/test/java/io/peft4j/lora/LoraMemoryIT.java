package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory stays flat over 1,000 LoRA training steps on a tiny model (dropout on, grad accumulation 2), every step in
 * its own NDScope. Two checks, sampled every 50 steps from step 100 on:
 * <ul>
 *   <li>exact: the number of live NDArrays owned by the model's manager tree never changes (a leaked op result or
 *   gradient would add one per step);</li>
 *   <li>resident: native memory (RSS minus the committed Java heap, after a GC) in the last five samples grows less
 *   than 5 % over the first five. Medians of five samples, because one sample can land on a GC or allocator
 *   spike.</li>
 * </ul>
 */
class LoraMemoryIT {
    private static final int FIRST = 100;
    private static final int LAST = 1_100;
    private static final int EVERY = 50;

    @Test
    void train1000Steps_liveArraysConstant_nativeRssGrowthUnderFivePercent() throws Exception {
        List<long[]> samples = new ArrayList<>();  // {step, live arrays, native kB}
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 1L);
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(LAST).optBatchSize(4).optLearningRate(5e-4)
                    .optGradAccum(2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        if (s.step() >= FIRST && s.step() % EVERY == 0) {
                            samples.add(new long[] {s.step(), m.getManagedArrays().size(), nativeKb()});
                        }
                    }
                });
                t.train(LoraTrainingTest.data(64, 4), null);
            }
        }
        StringBuilder series = new StringBuilder("step: live arrays, native kB\n");
        samples.forEach(s -> series.append(String.format("  %5d: %d, %d%n", s[0], s[1], s[2])));
        System.err.print(series);

        long live = samples.get(0)[1];
        samples.forEach(s -> assertEquals(live, s[1], "live NDArrays changed at step " + s[0] + "\n" + series));
        long early = median(samples.subList(0, 5));
        long late = median(samples.subList(samples.size() - 5, samples.size()));
        double growth = (late - early) / (double) early;
        System.err.printf("native RSS median steps %d-%d: %d kB, steps %d-%d: %d kB, growth %.2f%%%n", FIRST,
                FIRST + 4 * EVERY, early, LAST - 4 * EVERY, LAST, late, 100 * growth);
        assertTrue(growth < 0.05, "native RSS grew " + 100 * growth + "%\n" + series);
    }

    /** Resident memory outside the Java heap after a GC, in kB. */
    private static long nativeKb() {
        System.gc();
        return ProcessMemory.nativeRssBytes().orElseThrow(() -> new IllegalStateException("no VmRSS (not Linux?)"))
                / 1024;
    }

    private static long median(List<long[]> window) {
        long[] v = window.stream().mapToLong(s -> s[2]).sorted().toArray();
        return v[v.length / 2];
    }
}
