package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forwards on a {@link LoraLinear} used directly (no registry lock) from several threads while another thread
 * adds, merges, unmerges, refreshes and removes adapters in ways that leave the output unchanged: every forward
 * equals the reference, nothing throws (no array is freed under a forward), and no native array is left over.
 */
class LoraLinearConcurrencyTest {
    static final int IN = 16;
    static final int OUT = 8;
    static final int READERS = 3;
    static final int CYCLES = 150;
    static final LoraConfig PLAIN = LoraConfig.builder().optR(4).optLoraAlpha(8)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static final LoraConfig DORA = LoraConfig.builder().optR(2).optLoraAlpha(4).optUseDora(true)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    /** B = 0: a zero delta, so activating and merging it leaves every output as it was. */
    static final LoraConfig ZERO = LoraConfig.builder().optR(2).build();

    @Test
    void forwardsInThreads_whileMergingUnmergingAddingRemoving_equalReference_andFreeEverything() throws Exception {
        try (NDManager manager = Peft4j.newManager()) {
            NDArray x = manager.create(gaussian(5 * IN, 1, 1f), new Shape(5, IN));
            DenseLinear base = new DenseLinear(manager.create(gaussian(OUT * IN, 2, 0.2f), new Shape(OUT, IN)), null);
            LoraLinear layer = new LoraLinear("model.layers.0.self_attn.q_proj", base, manager);
            layer.addAdapter("d", DORA, 4L);       // first: DoRA's base result is the output so far (as in PEFT)
            layer.addAdapter("p", PLAIN, 3L);
            layer.setActive("p", true);
            layer.setActive("d", true);
            layer.adapterWeights("d").get("lora_magnitude_vector").set(gaussian(OUT, 5, 0.3f));
            float[] reference = forward(layer, x);
            float[] baseOnly = forward(base, x);
            assertTrue(maxDiff(reference, baseOnly) > 0.05, "the adapters must change the output: "
                    + maxDiff(reference, baseOnly));
            int arraysBefore = manager.getManagedArrays().size();

            ExecutorService pool = Executors.newFixedThreadPool(READERS + 1);
            AtomicBoolean writerDone = new AtomicBoolean();
            try {
                List<Future<long[]>> readers = new ArrayList<>();
                for (int t = 0; t < READERS; t++) {
                    readers.add(pool.submit(() -> read(layer, x, reference, writerDone)));
                }
                Future<?> writer = pool.submit(() -> {
                    try {
                        write(layer);
                    } finally {
                        writerDone.set(true);
                    }
                    return null;
                });
                writer.get(5, TimeUnit.MINUTES);
                long forwards = 0;
                for (Future<long[]> f : readers) {
                    long[] r = f.get(1, TimeUnit.MINUTES);
                    assertEquals(0, r[1], "forwards that differ from the reference by more than 1e-5");
                    forwards += r[0];
                }
                assertTrue(forwards >= READERS, "readers ran: " + forwards);
                System.out.println("lora concurrency: " + forwards + " forwards during " + CYCLES
                        + " add/merge/unmerge/remove cycles");
            } finally {
                writerDone.set(true);
                pool.shutdownNow();
            }
            assertEquals(java.util.Set.of("p", "d"), layer.adapterNames());
            assertTrue(!layer.isMerged("p") && !layer.isMerged("d"));
            assertTrue(maxDiff(reference, forward(layer, x)) <= 1e-5);
            assertEquals(arraysBefore, manager.getManagedArrays().size(), "native arrays leaked or freed too early");
            layer.close();
            base.close();
        }
    }

    /**
     * Output-preserving changes: the zero adapter anywhere in the merge order, DoRA merged before the plain one
     * (DoRA normalises the weight it is given and scales the output computed before it, so merging the plain
     * adapter alone would change DoRA's share).
     */
    private static void write(LoraLinear layer) {
        for (int i = 0; i < CYCLES; i++) {
            layer.addAdapter("t", ZERO, i);
            layer.setActive("t", true);
            layer.addAdapter("u", PLAIN, i);       // inactive: no effect, then removed unmerged
            layer.merge("t");
            layer.merge("d");
            layer.merge("p");
            layer.setTraining(i % 2 == 0);         // dropout 0: same output
            layer.refreshMerged();
            layer.removeAdapter("u");
            layer.unmerge("p");
            layer.removeAdapter("t");              // merged: unmerged, then freed
            layer.unmergeAll();
        }
        layer.setTraining(false);
    }

    /** Forwards until the writer is done (at least once); returns {count, mismatches}. */
    private static long[] read(LoraLinear layer, NDArray x, float[] reference, AtomicBoolean writerDone) {
        long n = 0;
        long bad = 0;
        do {
            float[] y = forward(layer, x);
            if (maxDiff(reference, y) > 1e-5) {
                bad++;
            }
            n++;
        } while (!writerDone.get());
        return new long[] {n, bad};
    }

    static float[] forward(io.peft4j.core.LinearLayer layer, NDArray x) {
        try (NDScope scope = new NDScope()) {
            return layer.forward(x).toFloatArray();
        }
    }

    static float[] gaussian(int n, long seed, float std) {
        Random r = new Random(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) r.nextGaussian() * std;
        }
        return f;
    }

    static float maxDiff(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
