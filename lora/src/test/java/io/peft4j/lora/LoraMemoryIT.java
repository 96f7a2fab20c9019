package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.LlamaModel;
import io.peft4j.core.testing.MemorySeries;
import io.peft4j.core.testing.NativeMemory;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No per-step memory growth in LoRA training on a tiny model (dropout on, grad accumulation 2, every step in its own
 * NDScope). After {@value #WARM_UP} warm-up steps (allocator and JIT growth settle there) it samples every
 * {@value #EVERY} steps up to step {@value #STEPS} and checks:
 * <ul>
 *   <li>exact: the number of live NDArrays owned by the model's manager tree never changes (a leaked op result or
 *   gradient would add one per step);</li>
 *   <li>native: the least-squares slope of resident memory outside the Java heap ({@link NativeMemory}) over the
 *   second half of the samples, taken through {@value #BLOCKS} block medians so one allocator spike cannot tilt it,
 *   stays under {@value #BOUND_KB_PER_STEP} kB per step. A leak of 10 kB per step (about 2.5 MB over the window)
 *   shows as a slope of ~10; allocator noise, measured over 6,000 steps in docs/djl-notes.md, stays well under the
 *   bound.</li>
 * </ul>
 * {@code MemorySeriesTest} checks the statistic on synthetic series; {@link LoraMemoryProbe} runs longer.
 */
class LoraMemoryIT {
    static final int WARM_UP = 300;
    static final int STEPS = 800;
    static final int EVERY = 10;
    static final int BLOCKS = 5;
    static final double BOUND_KB_PER_STEP = 5;

    @Test
    void train_liveArraysConstant_nativeSlopeUnderBound() throws Exception {
        Result r = run(0);
        r.live().forEach(l -> assertEquals(r.live().get(0), l, "live NDArrays changed\n" + r.nativeKb()));
        double slope = r.slope();
        System.err.printf("LoraMemoryIT: native slope %.2f kB/step over steps %d-%d (median %.0f kB)%n", slope,
                STEPS - (STEPS - WARM_UP) / 2, STEPS, r.nativeKb().secondHalf().median());
        assertTrue(slope < BOUND_KB_PER_STEP, "native memory grows " + slope + " kB/step\n" + r.nativeKb());
    }

    /** Live arrays per sample and native kB per sample. */
    record Result(List<Integer> live, MemorySeries nativeKb) {
        double slope() {
            return nativeKb.secondHalf().blockMedians(BLOCKS).slope();
        }
    }

    /**
     * Trains and samples as the test does; {@code leakKbPerStep > 0} keeps that much touched native memory alive per
     * step (a deliberate leak, to show the bound catches it; see {@link LoraMemoryProbe}).
     */
    static Result run(int leakKbPerStep) throws Exception {
        List<Integer> live = new ArrayList<>();
        MemorySeries nativeKb = new MemorySeries();
        List<ByteBuffer> leaked = new ArrayList<>();
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 1L);
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(STEPS).optBatchSize(4).optLearningRate(5e-4)
                    .optGradAccum(2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        if (leakKbPerStep > 0) {
                            leaked.add(ByteBuffer.allocateDirect(leakKbPerStep << 10));  // zero-filled: resident
                        }
                        if (s.step() > WARM_UP && s.step() % EVERY == 0) {
                            live.add(m.getManagedArrays().size());
                            nativeKb.add(s.step(), NativeMemory.settledKb());
                        }
                    }
                });
                t.train(LoraTrainingTest.data(64, 4), null);
            }
        }
        return new Result(live, nativeKb);
    }
}
