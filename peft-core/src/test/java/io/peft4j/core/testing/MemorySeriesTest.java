package io.peft4j.core.testing;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemorySeriesTest {

    @Test
    void slope_ofExactLine_isItsGradient() {
        MemorySeries s = new MemorySeries();
        for (int step = 100; step <= 1000; step += 50) {
            s.add(step, 7 + 3.5 * step);
        }
        assertEquals(3.5, s.slope(), 1e-9);
        assertEquals(3.5, s.secondHalf().slope(), 1e-9);
        assertEquals(10, s.secondHalf().size());   // 19 samples: the middle one goes to the second half
    }

    @Test
    void median_oddAndEven_ignoresOneSpike() {
        MemorySeries s = new MemorySeries().add(1, 10).add(2, 30).add(3, 20);
        assertEquals(20, s.median());
        s.add(4, 1e9);
        assertEquals(25, s.median());
    }

    @Test
    void slope_needsTwoDistinctSteps() {
        assertThrows(IllegalStateException.class, () -> new MemorySeries().add(1, 5).slope());
        assertThrows(IllegalStateException.class, () -> new MemorySeries().add(1, 5).add(1, 6).slope());
        assertThrows(IllegalStateException.class, () -> new MemorySeries().median());
    }

    /**
     * The sampling plan of {@code LoraMemoryIT} on synthetic native-memory series shaped like the measured ones
     * (docs/djl-notes.md): a flat level with Gaussian noise (sd 2 MB), plus, in some runs, one allocator spike of
     * +15 MB at a random sample. Noise alone must stay under the bound in every one of 2,000 runs; the same noise
     * on top of a 10 kB/step leak must exceed it in every run.
     */
    @Test
    void loraMemoryItPlan_failsA10KbPerStepLeak_passesNoise() {
        Random rnd = new Random(19);
        double worstNoise = Double.NEGATIVE_INFINITY;
        double leastLeak = Double.POSITIVE_INFINITY;
        for (int run = 0; run < 2_000; run++) {
            int spikeAt = rnd.nextBoolean() ? rnd.nextInt(ItPlan.SAMPLES) : -1;
            MemorySeries noise = new MemorySeries();
            MemorySeries leak = new MemorySeries();
            for (int i = 0; i < ItPlan.SAMPLES; i++) {
                int step = ItPlan.WARM_UP + (i + 1) * ItPlan.EVERY;
                double kb = 200_000 + rnd.nextGaussian() * 2_000 + (i == spikeAt ? 15_000 : 0);
                noise.add(step, kb);
                leak.add(step, kb + 10.0 * step);
            }
            worstNoise = Math.max(worstNoise, noise.secondHalf().slope());
            leastLeak = Math.min(leastLeak, leak.secondHalf().slope());
        }
        assertTrue(worstNoise < ItPlan.BOUND_KB_PER_STEP, "noise slope " + worstNoise);
        assertTrue(leastLeak > ItPlan.BOUND_KB_PER_STEP, "10 kB/step leak slope " + leastLeak);
    }

    /** LoraMemoryIT's plan: warm-up steps, then one sample every EVERY steps, SAMPLES in all. */
    private static final class ItPlan {
        static final int WARM_UP = 300;
        static final int EVERY = 20;
        static final int SAMPLES = 60;
        static final double BOUND_KB_PER_STEP = 5;
    }
}
