package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.KvCache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KvCache#retainRows} and {@link KvCache#appendRows} on a tiny random LLaMA: rows that join (prefilled in a
 * cache of their own, several at once with left padding) and leave at different steps get the logits each row
 * gets alone, and the cache's arrays do not accumulate over many joins and leaves.
 */
class KvCacheRowsTest {
    static final int VOCAB = LlamaModelTest.VOCAB;
    static NDManager manager;
    static LlamaModel model;

    /** A sequence of the simulated server: joins at step {@code join} and decodes {@code steps} fed tokens. */
    record Row(int id, int join, long[] prompt, int steps) {
        long token(int i) {
            return (id * 7L + i * 13L + 5) % VOCAB;
        }
    }

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        model = LlamaModel.random(LlamaModelTest.tinyConfig(2, true, true), 42, manager);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    static long[] prompt(int id, int length) {
        long[] p = new long[length];
        for (int i = 0; i < length; i++) {
            p[i] = (id * 31L + i * 17L + 3) % VOCAB;
        }
        return p;
    }

    /** Logits of the prompt's last position and of every fed token, row alone with its own cache. */
    static List<float[]> alone(Row row) {
        List<float[]> out = new ArrayList<>();
        try (KvCache cache = model.newKvCache(1); NDScope scope = new NDScope()) {
            out.add(model.forwardLast(manager.create(row.prompt(), new Shape(1, row.prompt().length)), null, cache)
                    .toFloatArray());
            for (int i = 0; i < row.steps(); i++) {
                out.add(model.forwardLast(manager.create(new long[] {row.token(i)}, new Shape(1, 1)), null, cache)
                        .toFloatArray());
            }
        }
        return out;
    }

    /**
     * Runs the schedule like a server: each step drops the rows that are done, decodes the rest one fed token, then
     * prefills the rows joining now (left-padded together) into a fresh cache and appends it. Returns each row's
     * logits in order.
     */
    static List<List<float[]>> batched(List<Row> schedule, int lastStep, int[] minLength) {
        List<List<float[]>> got = new ArrayList<>();
        schedule.forEach(r -> got.add(new ArrayList<>()));
        List<Row> live = new ArrayList<>();
        KvCache cache = null;
        try (Inference.Scope inference = Inference.enter()) {
            for (int step = 0; step <= lastStep; step++) {
                try (NDScope scope = new NDScope()) {
                    int[] keep = new int[live.size()];
                    int kept = 0;
                    List<Row> still = new ArrayList<>();
                    for (int r = 0; r < live.size(); r++) {
                        Row row = live.get(r);
                        if (got.get(row.id()).size() <= row.steps()) {
                            keep[kept++] = r;
                            still.add(row);
                        }
                    }
                    if (cache != null && kept < live.size()) {
                        cache.retainRows(Arrays.copyOf(keep, kept));
                    }
                    live = still;
                    if (!live.isEmpty()) {
                        long[] next = new long[live.size()];
                        for (int r = 0; r < live.size(); r++) {
                            Row row = live.get(r);
                            next[r] = row.token(got.get(row.id()).size() - 1);
                        }
                        float[] logits = model.forwardLast(manager.create(next, new Shape(next.length, 1)), null,
                                cache).toFloatArray();
                        for (int r = 0; r < live.size(); r++) {
                            got.get(live.get(r).id()).add(Arrays.copyOfRange(logits, r * VOCAB, (r + 1) * VOCAB));
                        }
                    }
                    int now = step;
                    List<Row> joining = schedule.stream().filter(r -> r.join() == now).toList();
                    if (!joining.isEmpty()) {
                        KvCache fresh = model.newKvCache(joining.size());
                        float[] logits = prefill(joining, fresh);
                        for (int r = 0; r < joining.size(); r++) {
                            got.get(joining.get(r).id()).add(Arrays.copyOfRange(logits, r * VOCAB, (r + 1) * VOCAB));
                        }
                        if (cache == null) {
                            cache = fresh;
                        } else {
                            cache.appendRows(fresh);
                            fresh.close();
                        }
                        live.addAll(joining);
                    }
                    if (cache != null) {
                        assertEquals(live.size(), cache.batchSize());
                        minLength[0] = Math.min(minLength[0], cache.length());
                    }
                }
            }
        } finally {
            if (cache != null) {
                cache.close();
            }
        }
        return got;
    }

    /** One left-padded prefill of the joining rows' prompts; their next-token logits. */
    static float[] prefill(List<Row> joining, KvCache cache) {
        int width = joining.stream().mapToInt(r -> r.prompt().length).max().orElse(0);
        int b = joining.size();
        long[] ids = new long[b * width];
        long[] mask = new long[b * width];
        for (int r = 0; r < b; r++) {
            long[] p = joining.get(r).prompt();
            System.arraycopy(p, 0, ids, r * width + width - p.length, p.length);
            Arrays.fill(mask, r * width + width - p.length, (r + 1) * width, 1L);
        }
        return model.forwardLast(manager.create(ids, new Shape(b, width)), manager.create(mask, new Shape(b, width)),
                cache).toFloatArray();
    }

    @Test
    void rowsJoiningAndLeavingMidway_logitsEqualEachRowAlone() {
        List<Row> schedule = List.of(
                new Row(0, 0, prompt(0, 5), 6),     // leaves after step 6
                new Row(1, 0, prompt(1, 9), 12),
                new Row(2, 2, prompt(2, 20), 4),    // longer than the running rows: they get left padding
                new Row(3, 3, prompt(3, 3), 9),     // joins with row 4, left-padded to 7
                new Row(4, 3, prompt(4, 7), 2),
                new Row(5, 7, prompt(5, 4), 5),     // joins after rows 0 and 4 left
                new Row(6, 13, prompt(6, 6), 3));   // joins after every earlier row left
        int[] minLength = {Integer.MAX_VALUE};
        List<List<float[]>> got = batched(schedule, 16, minLength);
        float worst = 0;
        float scale = 0;
        for (Row row : schedule) {
            List<float[]> want = alone(row);
            assertEquals(want.size(), got.get(row.id()).size(), "row " + row.id() + " steps");
            for (int i = 0; i < want.size(); i++) {
                worst = Math.max(worst, LlamaModelTest.maxDiff(want.get(i), 0, got.get(row.id()).get(i), 0, VOCAB));
                for (float v : want.get(i)) {
                    scale = Math.max(scale, Math.abs(v));
                }
            }
        }
        // logits reach ~28 on this model; a plain left-padded batch of two rows without row operations already
        // differs from the rows alone by ~8e-6 (fp32 sums in another order), so the bound is relative to the scale
        assertTrue(worst < 1e-6f * scale, "max |batched - alone| = " + worst + " at logits up to " + scale);
        assertEquals(6, minLength[0], "row 6 alone: the padding of the rows that left is forgotten");
    }

    @Test
    void manyJoinsAndLeaves_liveArraysStayFlat_andReturnAfterClose() {
        long before = manager.getManagedArrays().size();
        long[] counts = new long[40];
        try (KvCache cache = model.newKvCache(1); Inference.Scope inference = Inference.enter()) {
            try (NDScope scope = new NDScope()) {
                model.forwardLast(manager.create(prompt(0, 4), new Shape(1, 4)), null, cache);
            }
            for (int i = 0; i < counts.length; i++) {
                try (NDScope scope = new NDScope()) {
                    try (KvCache fresh = model.newKvCache(2)) {
                        prefill(List.of(new Row(i, 0, prompt(i, 2 + i % 9), 0), new Row(i + 1, 0, prompt(i + 1, 5), 0)),
                                fresh);
                        cache.appendRows(fresh);
                    }
                    model.forwardLast(manager.create(new long[] {1, 2, 3}, new Shape(3, 1)), null, cache);
                    cache.retainRows(i % 2 == 0 ? new int[] {1} : new int[] {2});
                    model.forwardLast(manager.create(new long[] {4}, new Shape(1, 1)), null, cache);
                }
                counts[i] = manager.getManagedArrays().size();
            }
        }
        assertTrue(counts[5] > before, "the cache's buffers are counted");
        assertEquals(counts[5], counts[counts.length - 1], "arrays with the cache open: " + Arrays.toString(counts));
        assertEquals(before, manager.getManagedArrays().size(), "arrays after close");
    }

    @Test
    void retainRows_refusesBadIndices_appendRows_refusesForeignCache() {
        try (KvCache cache = model.newKvCache(3)) {
            assertThrows(IllegalArgumentException.class, () -> cache.retainRows(1, 0));
            assertThrows(IllegalArgumentException.class, () -> cache.retainRows(3));
            assertThrows(IllegalArgumentException.class, () -> cache.appendRows(cache));
            assertThrows(IllegalArgumentException.class, () -> cache.appendRows(new KvCache() {
                @Override
                public int length() {
                    return 0;
                }

                @Override
                public void reset() {
                }

                @Override
                public void close() {
                }
            }));
            cache.retainRows(0, 2);
            assertEquals(2, cache.batchSize());
        }
    }
}
