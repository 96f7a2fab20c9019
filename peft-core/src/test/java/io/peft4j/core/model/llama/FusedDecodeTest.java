package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.testing.ForwardingLinear;
import io.peft4j.core.testing.RowKernelLinear;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused decode step ({@link FusedDecode}) against the general path on the same weights: a tiny GQA model whose
 * projections all have a row kernel ({@link RowKernelLinear}, a Java multiply) must give the logits of an identical
 * model without row kernels (libtorch throughout) at every decode step: one row past the cache's first growth, a
 * left-padded batch, rows dropped mid-generation, and projections that decline their row kernel.
 */
class FusedDecodeTest {
    static final int VOCAB = InferenceForwardTest.VOCAB;
    static final float TOLERANCE = 2e-5f;
    static NDManager manager;
    static LlamaModel general;

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        general = LlamaModel.random(InferenceForwardTest.config(3), 5, manager);
    }

    @AfterAll
    static void tearDown() {
        general.close();
        manager.close();
    }

    /** The same random model with every projection replaced by a row-kernel layer ({@code refuse} picks decliners). */
    static LlamaModel fused(IntPredicate refuse) {
        LlamaModel m = LlamaModel.random(InferenceForwardTest.config(3), 5, manager);
        int i = 0;
        for (String path : new ArrayList<>(m.linearLayers().keySet())) {
            if (!path.equals(LlamaModel.LM_HEAD)) {
                m.replaceLinear(path, new RowKernelLinear(m.linearLayers().get(path), refuse.test(i++)));
            }
        }
        return m;
    }

    static long rowCalls(LlamaModel m) {
        return m.linearLayers().values().stream().filter(l -> l instanceof RowKernelLinear)
                .mapToLong(l -> ((RowKernelLinear) l).rowCalls()).sum();
    }

    /**
     * Prefills {@code prompts} (left-padded to one length) and decodes {@code steps} fed tokens; after step
     * {@code dropAt} only rows {@code keep} go on. Returns the logits of every decode step.
     */
    static List<float[]> decode(LlamaModel m, long[][] prompts, int steps, int dropAt, int[] keep) {
        List<float[]> out = new ArrayList<>();
        int rows = prompts.length;
        int length = 0;
        for (long[] p : prompts) {
            length = Math.max(length, p.length);
        }
        long[] ids = new long[rows * length];
        long[] mask = new long[rows * length];
        for (int r = 0; r < rows; r++) {
            int pad = length - prompts[r].length;
            for (int t = 0; t < prompts[r].length; t++) {
                ids[r * length + pad + t] = prompts[r][t];
                mask[r * length + pad + t] = 1;
            }
        }
        try (Inference.Scope inference = Inference.enter(); KvCache cache = m.newKvCache(rows);
             NDScope scope = new NDScope()) {
            m.forwardLast(manager.create(ids, new Shape(rows, length)), manager.create(mask, new Shape(rows, length)),
                    cache);
            for (int s = 0; s < steps; s++) {
                if (s == dropAt) {
                    cache.retainRows(keep);
                    rows = keep.length;
                }
                long[] next = new long[rows];
                long[] ones = new long[rows];
                for (int r = 0; r < rows; r++) {
                    next[r] = (s * 13L + r * 29L + 7) % VOCAB;
                    ones[r] = 1;
                }
                try (NDScope step = new NDScope()) {
                    out.add(m.forwardLast(manager.create(next, new Shape(rows, 1)), manager.create(ones,
                            new Shape(rows, 1)), cache).toFloatArray());
                }
            }
        }
        return out;
    }

    static void assertSameLogits(List<float[]> expected, List<float[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int s = 0; s < expected.size(); s++) {
            float worst = 0;
            for (int i = 0; i < expected.get(s).length; i++) {
                worst = Math.max(worst, Math.abs(expected.get(s)[i] - actual.get(s)[i]));
            }
            assertTrue(worst < TOLERANCE, "decode step " + s + ": max |fused - general| = " + worst);
        }
    }

    static long[] prompt(int id, int length) {
        long[] p = new long[length];
        for (int i = 0; i < length; i++) {
            p[i] = (id * 31L + i * 17L + 3) % VOCAB;
        }
        return p;
    }

    @Test
    void oneRow_pastTheCacheGrowth_equalsGeneralPath() {
        long[][] prompts = {prompt(1, 60)};    // 60 + 10 positions: the 64-column buffers grow mid-decode
        try (LlamaModel m = fused(i -> false)) {
            List<float[]> got = decode(m, prompts, 10, -1, null);
            assertSameLogits(decode(general, prompts, 10, -1, null), got);
            assertEquals(10L * 3 * 7, rowCalls(m), "every projection of every decode step ran its row kernel");
        }
    }

    @Test
    void leftPaddedBatch_withRowsDropped_equalsGeneralPath() {
        long[][] prompts = {prompt(1, 9), prompt(2, 3), prompt(3, 6)};
        int[] keep = {0, 2};
        try (LlamaModel m = fused(i -> false)) {
            assertSameLogits(decode(general, prompts, 6, 3, keep), decode(m, prompts, 6, 3, keep));
        }
    }

    @Test
    void projectionsDecliningTheirRowKernel_fallBackPerCall() {
        long[][] prompts = {prompt(4, 5), prompt(5, 8)};
        try (LlamaModel m = fused(i -> i % 3 == 0)) {    // q, o, down of layer 0, ... decline
            List<float[]> got = decode(m, prompts, 4, -1, null);
            assertSameLogits(decode(general, prompts, 4, -1, null), got);
            assertEquals(4L * 14, rowCalls(m), "the 14 accepting projections ran their row kernel every step");
        }
    }

    @Test
    void aProjectionWithoutRowKernel_keepsTheGeneralPath() {
        try (LlamaModel m = fused(i -> false)) {
            String path = DecoderLayer.projectionPaths(2)[5];
            m.replaceLinear(path, new ForwardingLinear(m.linearLayers().get(path)));
            decode(m, new long[][] {prompt(6, 4)}, 3, -1, null);
            assertEquals(0, rowCalls(m), "one layer without a row kernel: the whole step stays general");
        }
    }

    @Test
    void bigBatch_keepsTheGeneralPath() {
        long[][] prompts = new long[FusedDecode.MAX_ROWS + 1][];
        for (int r = 0; r < prompts.length; r++) {
            prompts[r] = prompt(r, 3);
        }
        try (LlamaModel m = fused(i -> false)) {
            decode(m, prompts, 2, -1, null);
            assertEquals(0, rowCalls(m));
        }
    }
}
