package io.peft4j.core.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LrScheduleTest {
    static final double LR = 1e-3;

    @Test
    void warmup_rampsLinearlyFromZero() {
        for (LrSchedule s : LrSchedule.values()) {
            assertEquals(0.0, s.learningRate(LR, 0, 4, 20), 1e-15, s.name());
            assertEquals(0.5e-3, s.learningRate(LR, 2, 4, 20), 1e-15, s.name());
            assertEquals(1e-3, s.learningRate(LR, 4, 4, 20), 1e-15, s.name());
        }
    }

    @Test
    void constant_staysAtPeak() {
        assertEquals(1e-3, LrSchedule.CONSTANT.learningRate(LR, 19, 4, 20), 1e-15);
    }

    @Test
    void linear_decaysToZero() {
        // (total - step) / (total - warmup): step 12 of 20 with warmup 4 -> 8/16
        assertEquals(0.5e-3, LrSchedule.LINEAR.learningRate(LR, 12, 4, 20), 1e-15);
        assertEquals(0.0625e-3, LrSchedule.LINEAR.learningRate(LR, 19, 4, 20), 1e-15);
        assertEquals(0.0, LrSchedule.LINEAR.learningRate(LR, 25, 4, 20), 1e-15);
    }

    @Test
    void cosine_halfCosineAfterWarmup() {
        // progress 0.5 -> 0.5 * (1 + cos(pi/2)) = 0.5; progress 0.25 -> 0.5 * (1 + cos(pi/4)) = 0.8535534
        assertEquals(0.5e-3, LrSchedule.COSINE.learningRate(LR, 12, 4, 20), 1e-12);
        assertEquals(0.8535533905932737e-3, LrSchedule.COSINE.learningRate(LR, 8, 4, 20), 1e-12);
        assertEquals(0.0, LrSchedule.COSINE.learningRate(LR, 20, 4, 20), 1e-12);
    }

    @Test
    void parse_namesOrError() {
        assertEquals(LrSchedule.COSINE, LrSchedule.parse("Cosine"));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("step"));
    }
}
