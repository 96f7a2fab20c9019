package io.peft4j.core.model.llama;

import io.peft4j.core.testing.MemoryTensorSource;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class LlamaModelTest {
    static final int VOCAB = 61;
    static NDManager manager;
    static LlamaModel model;

    public static ModelConfig tinyConfig(int kvHeads, boolean tied, boolean bias) {
        return new ModelConfig("LlamaForCausalLM", "llama", VOCAB, 32, 48, 2, 4, kvHeads, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, tied, bias, -1, -1);
    }

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        model = LlamaModel.random(tinyConfig(2, true, true), 42, manager);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    static NDArray ids(NDManager m, long[]... rows) {
        long[] flat = Arrays.stream(rows).flatMapToLong(Arrays::stream).toArray();
        return m.create(flat, new Shape(rows.length, rows[0].length));
    }

    static float[] logits(CausalLM lm, NDArray ids, NDArray mask, KvCache cache) {
        try (NDScope scope = new NDScope()) {
            return lm.forward(ids, mask, cache).toFloatArray();
        }
    }

    static float maxDiff(float[] a, int aFrom, float[] b, int bFrom, int n) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(a[aFrom + i] - b[bFrom + i]));
        }
        return max;
    }

    @Test
    void forward_kvCacheStepwise_equalsFullForward() {
        long[] seq = {3, 17, 5, 42, 8, 8, 1, 60, 33, 21, 7, 9};
        try (NDManager m = manager.newSubManager(); KvCache cache = model.newKvCache(1)) {
            float[] full = logits(model, ids(m, seq), null, null);
            float[] prefix = logits(model, ids(m, Arrays.copyOf(seq, 5)), null, cache);
            assertTrue(maxDiff(full, 0, prefix, 0, 5 * VOCAB) < 1e-4f);
            for (int t = 5; t < seq.length; t++) {
                float[] step = logits(model, ids(m, new long[] {seq[t]}), null, cache);
                assertTrue(maxDiff(full, t * VOCAB, step, 0, VOCAB) < 1e-4f, "position " + t);
            }
            assertEquals(seq.length, cache.length());
        }
    }

    @Test
    void forward_leftAndRightPaddedBatch_equalsEachSequenceAlone() {
        long[] a = {3, 17, 5, 42, 8, 8, 1};
        long[] b = {60, 33, 21, 7};
        try (NDManager m = manager.newSubManager()) {
            float[] aloneA = logits(model, ids(m, a), null, null);
            float[] aloneB = logits(model, ids(m, b), null, null);
            long[] bLeft = {0, 0, 0, 60, 33, 21, 7};
            long[] bRight = {60, 33, 21, 7, 0, 0, 0};
            NDArray maskLeft = ids(m, new long[] {1, 1, 1, 1, 1, 1, 1}, new long[] {0, 0, 0, 1, 1, 1, 1});
            NDArray maskRight = ids(m, new long[] {1, 1, 1, 1, 1, 1, 1}, new long[] {1, 1, 1, 1, 0, 0, 0});
            float[] left = logits(model, ids(m, a, bLeft), maskLeft, null);
            float[] right = logits(model, ids(m, a, bRight), maskRight, null);
            int rowSize = 7 * VOCAB;
            assertTrue(maxDiff(aloneA, 0, left, 0, rowSize) < 1e-4f);
            assertTrue(maxDiff(aloneA, 0, right, 0, rowSize) < 1e-4f);
            assertTrue(maxDiff(aloneB, 0, left, rowSize + 3 * VOCAB, 4 * VOCAB) < 1e-4f);
            assertTrue(maxDiff(aloneB, 0, right, rowSize, 4 * VOCAB) < 1e-4f);
        }
    }

    @Test
    void forward_leftPaddedBatchWithCache_continuesLikeSingleSequence() {
        long[] a = {3, 17, 5, 42, 8};
        long[] b = {60, 33, 21};
        try (NDManager m = manager.newSubManager(); KvCache cache = model.newKvCache(2)) {
            NDArray mask = ids(m, new long[] {1, 1, 1, 1, 1}, new long[] {0, 0, 1, 1, 1});
            logits(model, ids(m, a, new long[] {0, 0, 60, 33, 21}), mask, cache);
            float[] step = logits(model, ids(m, new long[] {9}, new long[] {11}), null, cache);
            float[] aloneA = logits(model, ids(m, new long[] {3, 17, 5, 42, 8, 9}), null, null);
            float[] aloneB = logits(model, ids(m, new long[] {60, 33, 21, 11}), null, null);
            assertTrue(maxDiff(aloneA, 5 * VOCAB, step, 0, VOCAB) < 1e-4f);
            assertTrue(maxDiff(aloneB, 3 * VOCAB, step, VOCAB, VOCAB) < 1e-4f);
        }
    }

    @Test
    void forward_changedFutureToken_leavesEarlierLogitsUnchanged() {
        long[] seq = {3, 17, 5, 42, 8, 8, 1, 60};
        long[] changed = seq.clone();
        changed[5] = 59;
        try (NDManager m = manager.newSubManager()) {
            float[] before = logits(model, ids(m, seq), null, null);
            float[] after = logits(model, ids(m, changed), null, null);
            assertEquals(0f, maxDiff(before, 0, after, 0, 5 * VOCAB));
            assertTrue(maxDiff(before, 5 * VOCAB, after, 5 * VOCAB, VOCAB) > 1e-3f);
        }
    }

    @Test
    void forward_groupedQueryAttention_equalsExpandedHeads() throws Exception {
        ModelConfig gqa = tinyConfig(2, false, true);
        ModelConfig mha = tinyConfig(4, false, true);
        try (NDManager m = manager.newSubManager(); LlamaModel small = LlamaModel.random(gqa, 7, m)) {
            MemoryTensorSource weights = MemoryTensorSource.of(small, m);
            for (int layer = 0; layer < gqa.numLayers(); layer++) {
                for (String proj : new String[] {"k_proj", "v_proj"}) {
                    String path = "model.layers." + layer + ".self_attn." + proj;
                    LinearLayer kv = small.linearLayers().get(path);
                    // kv head j serves query heads 2j and 2j+1: repeat each head's rows (transformers' repeat_kv)
                    NDArray w = kv.denseWeight(m).reshape(2, 1, 8, 32).repeat(1, 2).reshape(32, 32);
                    NDArray bias = kv.bias().reshape(2, 1, 8).repeat(1, 2).reshape(32);
                    weights.put(path + ".weight", w);
                    weights.put(path + ".bias", bias);
                }
            }
            try (LlamaModel big = LlamaModel.load(mha, weights, m)) {
                NDArray input = ids(m, new long[] {3, 17, 5, 42, 8, 8, 1});
                float[] a = logits(small, input, null, null);
                float[] b = logits(big, input, null, null);
                assertTrue(maxDiff(a, 0, b, 0, a.length) < 1e-4f);
            }
        }
    }

    @Test
    void load_fromOwnWeights_reproducesLogits() throws Exception {
        try (NDManager m = manager.newSubManager();
             LlamaModel copy = LlamaModel.load(model.config(), MemoryTensorSource.of(model, m), m)) {
            NDArray input = ids(m, new long[] {1, 2, 3, 4});
            assertEquals(0f, maxDiff(logits(model, input, null, null), 0, logits(copy, input, null, null), 0,
                    4 * VOCAB));
            assertEquals(2 * 7 + 1, copy.linearLayers().size());
        }
    }

    @Test
    void forward_underGradientCollector_gradientReachesSwappedInLayerOnly() {
        String path = "model.layers.1.self_attn.q_proj";
        try (NDManager m = manager.newSubManager();
             LlamaModel lm = LlamaModel.random(tinyConfig(2, true, false), 3, m)) {
            LinearLayer old = lm.linearLayers().get(path);
            NDArray w = old.denseWeight(m);
            w.setRequiresGradient(true);
            assertSame(old, lm.replaceLinear(path, new DenseLinear(w, null)));
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = lm.forward(ids(m, new long[] {5, 6, 7}), null, null);
                gc.backward(out.get(new NDIndex(":, -1, 0")).sum());
                assertTrue(w.getGradient().abs().sum().getFloat() > 0f);
            }
            old.close();
        }
    }

    @Test
    void replaceLinear_wrongShapeOrUnknownPath_throws() {
        try (NDManager m = manager.newSubManager()) {
            LinearLayer wrong = new DenseLinear(m.zeros(new Shape(3, 32)), null);
            assertThrows(IllegalArgumentException.class,
                    () -> model.replaceLinear("model.layers.0.self_attn.q_proj", wrong));
            assertThrows(IllegalArgumentException.class, () -> model.replaceLinear("model.layers.9.mlp.up_proj", wrong));
        }
    }
}
