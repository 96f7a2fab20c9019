package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AdamWTest {

    /**
     * Two steps by hand (lr 0.1, λ 0.01, β 0.9/0.999, ε 1e-8), p = [1, -2], g1 = [0.5, -1], g2 = [0.1, 0.3].
     * Step 1, element 0: decay 1·(1 − 0.001) = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
     * p = 0.999 − 0.1·0.5/(0.5 + 1e-8) = 0.899000002. Step 2 continues with t = 2 bias corrections.
     */
    @Test
    void step_twoSteps_matchHandComputation() {
        try (NDManager m = Peft4j.newManager()) {
            NDArray p = m.create(new float[] {1f, -2f});
            try (AdamW opt = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0.01, m)) {
                try (NDScope s = new NDScope()) {
                    opt.step(List.of(m.create(new float[] {0.5f, -1f})), 0.1);
                }
                assertEquals(0.899000002, p.getFloat(0), 1e-6);
                assertEquals(-1.898000001, p.getFloat(1), 1e-6);
                try (NDScope s = new NDScope()) {
                    opt.step(List.of(m.create(new float[] {0.1f, 0.3f})), 0.1);
                }
                // step 2, element 0: p = 0.899·0.999 = 0.898101; m = 0.9·0.05 + 0.1·0.1 = 0.055, m̂ = 0.055/0.19;
                // v = 0.999·0.00025 + 0.001·0.01 = 0.00025975, v̂ = v/(1 − 0.999²) = 0.12993997;
                // p −= 0.1·0.28947368/0.36047187 → 0.81779691
                assertEquals(0.8177969063826517, p.getFloat(0), 1e-6);
                assertEquals(-1.8533171424282264, p.getFloat(1), 1e-6);
                assertEquals(2, opt.stepCount());
            }
        }
    }

    @Test
    void step_zeroGradientWithDecay_onlyShrinks() {
        try (NDManager m = Peft4j.newManager()) {
            NDArray p = m.create(new float[] {2f});
            try (AdamW opt = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0.5, m); NDScope s = new NDScope()) {
                opt.step(List.of(m.create(new float[] {0f})), 0.1);
                assertEquals(2 * 0.95, p.getFloat(0), 1e-6);
            }
        }
    }

    @Test
    void constructor_badSettings_rejected() {
        try (NDManager m = Peft4j.newManager()) {
            assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(), 1.0, 0.999, 1e-8, 0, m));
        }
    }
}
