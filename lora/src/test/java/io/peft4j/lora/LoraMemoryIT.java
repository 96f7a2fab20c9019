package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.NativeMemory;
import io.peft4j.core.testing.NativeMemoryTrend;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * No per-step memory growth in LoRA training on a tiny model (dropout on, grad accumulation 2, every step in its own
 * NDScope). After {@value #WARM_UP} warm-up steps (allocator and JIT growth settle there) it samples every
 * {@value #EVERY} steps up to step {@value #STEPS}, after a GC, and checks:
 * <ul>
 *   <li>exact: the number of live NDArrays owned by the model's manager tree never changes (a leaked op result or
 *   gradient would add one per step);</li>
 *   <li>malloc: the bytes glibc has handed out and not taken back ({@link NativeMemory#mallocInUseKb()}: libtorch
 *   tensors, JNI and direct buffers), less the JVM's own share ({@link NativeMemory#jvmMallocKb()}, whose compiler
 *   arenas swing by 13 MB on a timer), grow by less than {@value #MALLOC_BOUND_KB_PER_STEP} kB per step;</li>
 *   <li>resident: memory outside the Java heap ({@link NativeMemory#settledKb()}) grows by less than
 *   {@value #RSS_BOUND_KB_PER_STEP} kB per step. Looser, because glibc keeps freed memory cached and RSS moves
 *   in steps of 4-6 MB that last 30-150 steps while nothing leaks (docs/djl-notes.md).</li>
 * </ul>
 * Growth is {@link NativeMemoryTrend}'s slope: the median of neighbouring slopes between block lower quartiles, so
 * neither a short spike nor a one-off level change can tilt it. A 10 kB/step leak shows as a malloc slope of ~10 and
 * fails; {@code MemorySeriesTest} checks the statistic on synthetic series, {@link LoraMemoryProbe} runs longer or
 * injects a leak.
 */
class LoraMemoryIT {
    static final int WARM_UP = 500;
    static final int STEPS = 1_500;
    static final int EVERY = 5;
    static final double MALLOC_BOUND_KB_PER_STEP = 5;
    static final double RSS_BOUND_KB_PER_STEP = 20;

    @Test
    void train_liveArraysConstant_nativeSlopesUnderBounds() throws Exception {
        List<Integer> live = new ArrayList<>();
        NativeMemoryTrend trend = run(0, live);
        live.forEach(l -> assertEquals(live.get(0), l, "live NDArrays changed: " + live));
        System.err.println("LoraMemoryIT: " + verdict(trend));
        trend.assertSlopesBelow(MALLOC_BOUND_KB_PER_STEP, RSS_BOUND_KB_PER_STEP);
    }

    static String verdict(NativeMemoryTrend trend) {
        boolean fails = trend.mallocSlope() >= MALLOC_BOUND_KB_PER_STEP || trend.rssSlope() >= RSS_BOUND_KB_PER_STEP;
        return trend.summary() + String.format(" (bounds %.0f and %.0f): %s", MALLOC_BOUND_KB_PER_STEP,
                RSS_BOUND_KB_PER_STEP, fails ? "FAILS" : "passes");
    }

    /**
     * Trains and samples as the test does, adding each sample's live-array count to {@code live};
     * {@code leakKbPerStep > 0} keeps that much touched native memory alive per step (a deliberate leak, to show the
     * bounds catch it; see {@link LoraMemoryProbe}).
     */
    static NativeMemoryTrend run(int leakKbPerStep, List<Integer> live) throws Exception {
        NativeMemoryTrend trend = new NativeMemoryTrend();
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
                            trend.sample(s.step());
                        }
                    }
                });
                t.train(LoraTrainingTest.data(64, 4), null);
            }
        }
        return trend;
    }
}
