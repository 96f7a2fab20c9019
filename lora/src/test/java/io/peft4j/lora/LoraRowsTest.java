package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.Inference;
import io.peft4j.core.testing.RowKernelLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterRouting;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LoraLinear#forwardRows} (the Java-array decode kernel) against {@link LoraLinear#forward} on the same
 * input: one and several adapters, disabled, mixed-adapter routing, in-place weight updates, and the states that
 * must decline ({@code false}, output untouched).
 */
class LoraRowsTest {
    static final int IN = 12;
    static final int OUT = 10;
    static final String PATH = "model.layers.0.self_attn.q_proj";
    static final LoraConfig R4 = LoraConfig.builder().optR(4).optLoraAlpha(8)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static final LoraConfig R3_RS = LoraConfig.builder().optR(3).optLoraAlpha(6).optUseRslora(true)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static NDManager manager;
    static float[] w;      // [OUT, IN]
    static float[] bias;   // [OUT]

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        Random r = new Random(11);
        w = gaussian(r, OUT * IN);
        bias = gaussian(r, OUT);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /**
     * A dense fp32 projection with a row kernel ({@link RowKernelLinear}): {@code forward} through libtorch,
     * {@code forwardRows} in plain Java (double accumulation), so the two are independent computations. With {@code hook} set, a forward call
     * (not nested in another) first hands its input to the hook: how a test runs inside a model's forward.
     */
    static final class RowDense extends RowKernelLinear {
        Consumer<NDArray> hook;
        private boolean inHook;

        RowDense(float[] weight, float[] b, long out, long in) {
            super(new DenseLinear(manager.create(weight, new Shape(out, in)),
                    b == null ? null : manager.create(b, new Shape(out))), false);
        }

        @Override
        public NDArray forward(NDArray x) {
            if (hook != null && !inHook) {
                inHook = true;
                try {
                    hook.accept(x);
                } finally {
                    inHook = false;
                }
            }
            return super.forward(x);
        }
    }

    static float[] gaussian(Random r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) r.nextGaussian();
        }
        return out;
    }

    static float[] x(int rows) {
        return gaussian(new Random(100 + rows), rows * IN);
    }

    static LoraLinear wrap(LinearLayer base, String name, LoraConfig config, long seed) {
        LoraLinear l = new LoraLinear(PATH, base, manager);
        l.addAdapter(name, config, seed);
        l.setActive(name, true);
        return l;
    }

    static float[] viaForward(LinearLayer l, float[] x, int rows) {
        try (NDScope s = new NDScope()) {
            return l.forward(manager.create(x, new Shape(rows, x.length / rows))).toFloatArray();
        }
    }

    static float[] viaRows(LinearLayer l, float[] x, int rows) {
        float[] y = new float[rows * (int) l.outFeatures()];
        assertTrue(l.forwardRows(x, rows, y), "forwardRows declined");
        return y;
    }

    /** {@code max|a − b| ≤ 1e-5·max|b|}. */
    static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        float diff = 0;
        float scale = 0;
        for (int i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        assertTrue(diff <= 1e-5f * scale, "max diff " + diff + " vs max " + scale);
    }

    static float maxDiff(float[] a, float[] b) {
        return TinyModels.maxDiff(a, b);
    }

    @Test
    void oneAdapter_matchesForward_forOneAndFiveRows() {
        try (Inference.Scope in = Inference.enter(); RowDense base = new RowDense(w, bias, OUT, IN);
             LoraLinear l = wrap(base, "a", R4, 1L)) {
            assertTrue(l.hasRowKernel());
            for (int rows : new int[] {1, 5}) {
                float[] x = x(rows);
                float[] y = viaRows(l, x, rows);
                assertClose(viaForward(l, x, rows), y);
                assertTrue(maxDiff(y, viaRows(base, x, rows)) > 1e-3f, "the adapter adds nothing");
            }
        }
    }

    @Test
    void twoActiveAdapters_areSummed() {
        try (Inference.Scope in = Inference.enter(); RowDense base = new RowDense(w, null, OUT, IN);
             LoraLinear l = wrap(base, "a", R4, 1L)) {
            l.addAdapter("b", R3_RS, 2L);
            l.setActive("b", true);
            float[] x = x(4);
            float[] both = viaRows(l, x, 4);
            assertClose(viaForward(l, x, 4), both);
            l.setActive("b", false);
            assertTrue(maxDiff(both, viaRows(l, x, 4)) > 1e-3f, "the second adapter adds nothing");
        }
    }

    @Test
    void disabled_isBaseOnly() {
        try (Inference.Scope in = Inference.enter(); RowDense base = new RowDense(w, bias, OUT, IN);
             LoraLinear l = wrap(base, "a", R4, 1L)) {
            l.setEnabled(false);
            float[] x = x(3);
            float[] y = viaRows(l, x, 3);
            assertClose(viaForward(base, x, 3), y);
            assertClose(viaForward(l, x, 3), y);
        }
    }

    @Test
    void liveWeights_inPlaceUpdatesAreSeen() {
        try (Inference.Scope in = Inference.enter(); RowDense base = new RowDense(w, bias, OUT, IN);
             LoraLinear l = wrap(base, "a", R4, 1L)) {
            float[] x = x(2);
            float[] first = viaRows(l, x, 2);
            NDArray b = l.adapterWeights("a").get("lora_B.weight");
            b.set(gaussian(new Random(5), OUT * 4));
            float[] second = viaRows(l, x, 2);
            assertTrue(maxDiff(first, second) > 1e-3f, "the set of B was not seen");
            assertClose(viaForward(l, x, 2), second);
            l.adapterWeights("a").get("lora_A.weight").addi(0.5f);
            float[] third = viaRows(l, x, 2);
            assertTrue(maxDiff(second, third) > 1e-3f, "the addi on A was not seen");
            assertClose(viaForward(l, x, 2), third);
        }
    }

    @Test
    void declines_andLeavesOutputUntouched_whenItHasNoRowPath() {
        float[] x = x(2);
        float[] sentinel = new float[2 * OUT];
        Arrays.fill(sentinel, 7f);
        try (Inference.Scope in = Inference.enter(); RowDense base = new RowDense(w, bias, OUT, IN);
             LoraLinear merged = wrap(base, "a", R4, 1L);
             LoraLinear dora = wrap(base, "d", LoraConfig.builder().optR(4).optUseDora(true)
                     .optInitLoraWeights(InitLoraWeights.RANDOM).build(), 2L);
             LoraLinear dropout = wrap(base, "p", LoraConfig.builder().optR(4).optLoraDropout(0.1)
                     .optInitLoraWeights(InitLoraWeights.RANDOM).build(), 3L);
             LoraLinear dense = wrap(new DenseLinear(manager.create(w, new Shape(OUT, IN)), null), "a", R4, 1L)) {
            merged.merge("a");
            dropout.setTraining(true);
            assertFalse(dense.hasRowKernel());
            for (LoraLinear l : List.of(merged, dora, dropout, dense)) {
                float[] y = sentinel.clone();
                assertFalse(l.forwardRows(x, 2, y));
                assertArrayEquals(sentinel, y);
            }
            dropout.setTraining(false);
            assertClose(viaForward(dropout, x, 2), viaRows(dropout, x, 2));
            dense.base().close();
        }
    }

    @Test
    void closed_isRefused() {
        try (RowDense base = new RowDense(w, null, OUT, IN)) {
            LoraLinear l = wrap(base, "a", R4, 1L);
            l.close();
            assertThrows(IllegalStateException.class, () -> l.forwardRows(x(1), 1, new float[OUT]));
        }
    }

    /**
     * Mixed-adapter routing through the public path: a tiny LLaMA whose q_proj base is a {@link RowDense} with a
     * hook, so the comparison runs inside {@link MixedAdapterModel#forward} while its routing is current.
     */
    @Test
    void mixedRouting_matchesForward_perRowAndSingle() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m)) {
            float[] qw = model.linearLayers().get(PATH).denseWeight(m).toFloatArray();
            int hidden = (int) model.linearLayers().get(PATH).inFeatures();
            int qOut = (int) model.linearLayers().get(PATH).outFeatures();
            RowDense probe = new RowDense(qw, null, qOut, hidden);
            model.replaceLinear(PATH, probe);
            try (PeftModel peft = PeftModel.wrap(model); Inference.Scope in = Inference.enter()) {
                peft.addAdapter("a", R4, 1L);
                peft.addAdapter("b", R3_RS, 2L);
                LoraLinear lora = assertInstanceOf(LoraLinear.class, model.linearLayers().get(PATH));
                NDArray ids = m.create(new long[] {5, 9, 33}, new Shape(3, 1));
                List<float[][]> seen = new ArrayList<>();   // {forward, forwardRows, base rows} per call
                List<RuntimeException> refused = new ArrayList<>();
                probe.hook = x -> {
                    float[] xs = x.toFloatArray();
                    int rows = xs.length / hidden;
                    float[] y = new float[rows * qOut];
                    assertTrue(lora.forwardRows(xs, rows, y), "routed forwardRows declined");
                    float[] base = new float[rows * qOut];
                    probe.forwardRows(xs, rows, base);
                    try (NDScope s = new NDScope()) {
                        seen.add(new float[][] {lora.forward(x).toFloatArray(), y, base});
                    }
                    if (AdapterRouting.current().single() == null) {
                        refused.add(assertThrows(IllegalStateException.class,
                                () -> lora.forwardRows(xs, rows - 1, new float[rows * qOut])));
                    }
                };
                try (MixedAdapterModel mixed = peft.withAdapters(List.of("a", "b", AdapterRouting.BASE));
                     NDScope s = new NDScope()) {
                    mixed.forward(ids, null, null);
                }
                try (MixedAdapterModel single = peft.withAdapter("b"); NDScope s = new NDScope()) {
                    single.forward(ids, null, null);
                }
                assertEquals(2, seen.size());
                assertEquals(1, refused.size());
                assertTrue(refused.get(0).getMessage().contains("routing has 3"), refused.get(0).getMessage());
                float[][] mixedRun = seen.get(0);
                assertClose(mixedRun[0], mixedRun[1]);
                float[] row2 = Arrays.copyOfRange(mixedRun[1], 2 * qOut, 3 * qOut);
                assertArrayEquals(Arrays.copyOfRange(mixedRun[2], 2 * qOut, 3 * qOut), row2, "BASE row changed");
                assertTrue(maxDiff(Arrays.copyOfRange(mixedRun[1], 0, qOut),
                        Arrays.copyOfRange(mixedRun[2], 0, qOut)) > 1e-3f, "row 0 got no delta");
                float[][] singleRun = seen.get(1);
                assertClose(singleRun[0], singleRun[1]);
                assertTrue(maxDiff(singleRun[1], singleRun[2]) > 1e-3f, "adapter b added nothing");
            }
        }
    }
}
