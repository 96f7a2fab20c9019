package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Peft4j;
import io.peft4j.core.testing.ForwardingLinear;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraLinearTest {
    static final int IN = 12;
    static final int OUT = 10;
    static NDManager manager;
    static float[] w;   // [OUT, IN]
    static float[] x;   // [3, IN]

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        Random r = new Random(7);
        w = new float[OUT * IN];
        x = new float[3 * IN];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** A projection that is not a DenseLinear, to show the wrapper only uses the seam. */
    static final class OpaqueLinear extends ForwardingLinear {
        OpaqueLinear(NDArray weight) {
            super(new DenseLinear(weight, null));
        }
    }

    static LoraLinear wrap(LoraConfig config) {
        LoraLinear l = new LoraLinear("model.layers.0.self_attn.q_proj",
                new OpaqueLinear(manager.create(w, new Shape(OUT, IN))), manager);
        l.addAdapter("default", config, 3L);
        l.setActive("default", true);
        return l;
    }

    static float[] run(LinearLayer l) {
        try (NDScope s = new NDScope()) {
            return l.forward(manager.create(x, new Shape(3, IN))).toFloatArray();
        }
    }

    /** Plain-Java x·Wᵀ for a [OUT, IN] weight. */
    static float[] reference(float[] weight) {
        float[] y = new float[3 * OUT];
        for (int n = 0; n < 3; n++) {
            for (int o = 0; o < OUT; o++) {
                double acc = 0;
                for (int i = 0; i < IN; i++) {
                    acc += x[n * IN + i] * weight[o * IN + i];
                }
                y[n * OUT + o] = (float) acc;
            }
        }
        return y;
    }

    /** W + scale·B·A computed in Java. */
    static float[] effective(LoraLinear l, double scale) {
        float[] a = l.adapterWeights("default").get("lora_A.weight").toFloatArray();
        float[] b = l.adapterWeights("default").get("lora_B.weight").toFloatArray();
        int r = a.length / IN;
        float[] out = w.clone();
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i++) {
                double acc = 0;
                for (int k = 0; k < r; k++) {
                    acc += b[o * r + k] * a[k * IN + i];
                }
                out[o * IN + i] += (float) (scale * acc);
            }
        }
        return out;
    }

    static void assertClose(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol, "element " + i);
        }
    }

    @Test
    void forward_defaultInit_equalsBaseAndAIsKaimingBounded() {
        try (LoraLinear l = wrap(LoraConfig.builder().optR(4).build())) {
            assertClose(reference(w), run(l), 1e-5);
            float[] a = l.adapterWeights("default").get("lora_A.weight").toFloatArray();
            float[] b = l.adapterWeights("default").get("lora_B.weight").toFloatArray();
            double bound = 1 / Math.sqrt(IN);
            for (float v : a) {
                assertTrue(Math.abs(v) <= bound, "A within ±1/sqrt(in)");
            }
            assertTrue(java.util.Arrays.stream(toDouble(a)).anyMatch(v -> v != 0));
            assertTrue(java.util.Arrays.stream(toDouble(b)).allMatch(v -> v == 0), "B starts at zero");
        }
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void forward_nonZeroB_equalsBasePlusScaledLowRank() {
        LoraConfig c = LoraConfig.builder().optR(4).optLoraAlpha(8).optInitLoraWeights(InitLoraWeights.RANDOM).build();
        try (LoraLinear l = wrap(c)) {
            assertClose(reference(effective(l, 2.0)), run(l), 1e-4);
        }
    }

    @Test
    void forward_rslora_scalesByAlphaOverSqrtR() {
        LoraConfig c = LoraConfig.builder().optR(4).optLoraAlpha(8).optUseRslora(true)
                .optInitLoraWeights(InitLoraWeights.RANDOM).build();
        assertEquals(4.0, c.scaleFor("x.q_proj"), 1e-12);
        try (LoraLinear l = wrap(c)) {
            assertClose(reference(effective(l, 4.0)), run(l), 1e-4);
        }
    }

    @Test
    void gaussianInit_hasStdOneOverR() {
        LoraConfig c = LoraConfig.builder().optR(2).optInitLoraWeights(InitLoraWeights.GAUSSIAN).build();
        LoraLinear l = new LoraLinear("p", new DenseLinear(manager.zeros(new Shape(OUT, 2000)), null), manager);
        l.addAdapter("g", c, 1L);
        float[] a = l.adapterWeights("g").get("lora_A.weight").toFloatArray();
        double sq = 0;
        for (float v : a) {
            sq += v * v;
        }
        assertEquals(0.5, Math.sqrt(sq / a.length), 0.02);
        l.close();
    }

    @Test
    void merge_matchesUnmerged_andUnmergeIsExact() {
        LoraConfig c = LoraConfig.builder().optR(4).optLoraAlpha(16).optInitLoraWeights(InitLoraWeights.RANDOM).build();
        try (LoraLinear l = wrap(c)) {
            float[] unmerged = run(l);
            l.merge("default");
            assertClose(unmerged, run(l), 1e-5);
            l.setEnabled(false);
            assertClose(reference(w), run(l), 1e-5);
            l.setEnabled(true);
            l.unmerge("default");
            assertArrayEquals(unmerged, run(l));
        }
    }

    @Test
    void dora_initEqualsBase_magnitudeIsRowNorm_andMatchesReference() {
        LoraConfig c = LoraConfig.builder().optR(4).optUseDora(true).build();
        try (LoraLinear l = wrap(c)) {
            assertClose(reference(w), run(l), 1e-5);
            float[] m = l.adapterWeights("default").get("lora_magnitude_vector").toFloatArray();
            for (int o = 0; o < OUT; o++) {
                double n = 0;
                for (int i = 0; i < IN; i++) {
                    n += w[o * IN + i] * w[o * IN + i];
                }
                assertEquals(Math.sqrt(n), m[o], 1e-5);
            }
            // give B values and a changed magnitude: y = x · (m/‖W+ΔW‖ ⊙ (W+ΔW))ᵀ
            l.adapterWeights("default").get("lora_B.weight").set(randomFloats(OUT * 4, 11));
            float[] m2 = m.clone();
            m2[0] *= 1.5f;
            l.adapterWeights("default").get("lora_magnitude_vector").set(m2);
            float[] we = effective(l, 2.0);   // alpha 8 / r 4
            for (int o = 0; o < OUT; o++) {
                double n = 0;
                for (int i = 0; i < IN; i++) {
                    n += we[o * IN + i] * we[o * IN + i];
                }
                for (int i = 0; i < IN; i++) {
                    we[o * IN + i] *= (float) (m2[o] / Math.sqrt(n));
                }
            }
            float[] want = reference(we);
            assertClose(want, run(l), 1e-4);
            l.merge("default");
            assertClose(want, run(l), 1e-4);
        }
    }

    static float[] randomFloats(int n, long seed) {
        Random r = new Random(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) r.nextGaussian() * 0.3f;
        }
        return f;
    }

    @Test
    void twoAdapters_activeOnesAreSummed() {
        LoraConfig c = LoraConfig.builder().optR(2).optInitLoraWeights(InitLoraWeights.RANDOM).build();
        try (LoraLinear l = wrap(c)) {
            float[] one = run(l);
            l.addAdapter("second", c, 99L);
            assertArrayEquals(one, run(l), "inactive adapter changes nothing");
            l.setActive("second", true);
            l.setActive("default", false);
            float[] two = run(l);
            l.setActive("default", true);
            float[] both = run(l);
            float[] base = reference(w);
            for (int i = 0; i < both.length; i++) {
                assertEquals(one[i] + two[i] - base[i], both[i], 1e-4);
            }
            assertEquals(4, l.trainableParameters().size());
            assertEquals(false, l.removeAdapter("second"));
        }
    }
}
