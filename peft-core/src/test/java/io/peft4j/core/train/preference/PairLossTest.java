package io.peft4j.core.train.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each loss type on made-up log-probs against values computed by hand (the formulas of trl 1.16). */
class PairLossTest {
    // two pairs: policy chosen/rejected, reference chosen/rejected, answer lengths
    static final float[] PC = {-10f, -4f};
    static final float[] PR = {-12f, -3f};
    static final float[] RC = {-11f, -4.5f};
    static final float[] RR = {-11.5f, -3.5f};
    static final float[] LC = {5, 2};
    static final float[] LR = {4, 3};

    static float[] loss(PreferenceConfig cfg) {
        try (NDManager m = Peft4j.newManager()) {
            PairLoss l = new PairLoss(cfg, m);
            return l.withReference(m.create(PC), m.create(PR), m.create(RC), m.create(RR), m.create(LC),
                    m.create(LR)).toFloatArray();
        }
    }

    static double logSigmoid(double x) {
        return -Math.log1p(Math.exp(-x));
    }

    @Test
    void sigmoid_matchesHandComputedDpo() {
        // Δ = (pc - rc) - (pr - rr): pair 0: 1 - (-0.5) = 1.5; pair 1: 0.5 - 0.5 = 0
        float[] got = loss(PreferenceConfig.builder().build());
        assertArrayEquals(new float[] {(float) -logSigmoid(0.15), (float) Math.log(2)}, got, 1e-6f);
    }

    @Test
    void sigmoid_withLabelSmoothing_isConservativeDpo() {
        float[] got = loss(PreferenceConfig.builder().optBeta(0.5).optLabelSmoothing(0.2).build());
        double want0 = -0.8 * logSigmoid(0.75) - 0.2 * logSigmoid(-0.75);
        assertArrayEquals(new float[] {(float) want0, (float) Math.log(2)}, got, 1e-6f);
    }

    @Test
    void hinge_isReluOfOneMinusBetaDelta() {
        float[] got = loss(PreferenceConfig.builder().setLossType(PreferenceLossType.HINGE).optBeta(0.5).build());
        assertArrayEquals(new float[] {0.25f, 1f}, got, 1e-6f);
    }

    @Test
    void ipo_averagesLogRatiosPerAnswerToken() {
        float[] got = loss(PreferenceConfig.builder().setLossType(PreferenceLossType.IPO).optBeta(0.1).build());
        // pair 0: 1/5 - (-0.5)/4 = 0.325, minus 1/(2·0.1) = 5 → (−4.675)²; pair 1: 0.5/2 - 0.5/3 = 1/12
        double d1 = 0.25 - 0.5 / 3 - 5;
        assertArrayEquals(new float[] {(float) (4.675 * 4.675), (float) (d1 * d1)}, got, 1e-4f);
    }

    @Test
    void orpo_logOddsTerm_matchesFormula() {
        try (NDManager m = Peft4j.newManager()) {
            PairLoss l = new PairLoss(PreferenceConfig.builder().setLossType(PreferenceLossType.ORPO).build(), m);
            NDArray c = m.create(new float[] {-0.5f, -2f});
            NDArray r = m.create(new float[] {-1.5f, -1f});
            float[] got = l.orpoLogSigmoidOdds(c, r).toFloatArray();
            float[] want = new float[2];
            double[][] in = {{-0.5, -1.5}, {-2, -1}};
            for (int k = 0; k < 2; k++) {
                double odds = (in[k][0] - in[k][1]) - (Math.log(-Math.expm1(in[k][0])) - Math.log(-Math.expm1(in[k][1])));
                want[k] = (float) logSigmoid(odds);
            }
            assertArrayEquals(want, got, 1e-5f);
        }
    }

    @Test
    void config_refusesSmoothingOutsideSigmoid_andBadBeta() {
        assertThrows(IllegalArgumentException.class, () -> PreferenceConfig.builder()
                .setLossType(PreferenceLossType.IPO).optLabelSmoothing(0.1).build());
        assertThrows(IllegalArgumentException.class, () -> PreferenceConfig.builder().optBeta(0).build());
        assertThrows(IllegalArgumentException.class, () -> PreferenceConfig.builder()
                .setLossType(PreferenceLossType.ORPO).optPrecomputeRefLogProbs(true).build());
        assertThrows(IllegalArgumentException.class, () -> PreferenceLossType.parse("kto"));
    }
}
