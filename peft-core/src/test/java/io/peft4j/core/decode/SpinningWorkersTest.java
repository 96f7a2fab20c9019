package io.peft4j.core.decode;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every chunk runs exactly once, from one caller or several at a time, and a failing chunk's exception reaches the caller. */
class SpinningWorkersTest {

    @Test
    void everyChunkRunsOnce_overManyJobs_andAfterTheWorkersParked() throws Exception {
        SpinningWorkers w = new SpinningWorkers(3);
        for (int job = 0; job < 2_000; job++) {
            int chunks = 1 + job % 13;
            AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
            w.run(chunks, runs::incrementAndGet);
            for (int c = 0; c < chunks; c++) {
                assertEquals(1, runs.get(c), "job " + job + " chunk " + c);
            }
            if (job == 1_000) {
                Thread.sleep(3 * SpinningWorkers.SPIN_MICROS / 1_000 + 5);   // the workers park; the next job wakes them
            }
        }
    }

    @Test
    void concurrentCallers_eachGetEveryChunkOnce() throws Exception {
        SpinningWorkers w = new SpinningWorkers(1);
        ExecutorService callers = Executors.newFixedThreadPool(3);
        try {
            Future<?>[] f = new Future<?>[3];
            for (int t = 0; t < f.length; t++) {
                f[t] = callers.submit(() -> {
                    for (int job = 0; job < 500; job++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(8);
                        w.run(8, runs::incrementAndGet);
                        for (int c = 0; c < 8; c++) {
                            assertEquals(1, runs.get(c));
                        }
                    }
                    return null;
                });
            }
            for (Future<?> x : f) {
                x.get();
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aJobStartedInsideAChunk_runsInline() {
        SpinningWorkers w = new SpinningWorkers(1);
        AtomicIntegerArray inner = new AtomicIntegerArray(4 * 5);
        w.run(4, outer -> w.run(5, c -> inner.incrementAndGet(outer * 5 + c)));
        for (int i = 0; i < inner.length(); i++) {
            assertEquals(1, inner.get(i), "inner chunk " + i);
        }
    }

    @Test
    void aFailingChunk_throwsInTheCaller_andTheWorkersStayUsable() {
        SpinningWorkers w = new SpinningWorkers(1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.run(6, c -> {
            if (c == 4) {
                throw new IllegalStateException("chunk 4 failed");
            }
        }));
        assertEquals("chunk 4 failed", e.getMessage());
        AtomicIntegerArray runs = new AtomicIntegerArray(6);
        w.run(6, runs::incrementAndGet);
        for (int c = 0; c < 6; c++) {
            assertEquals(1, runs.get(c));
        }
    }
}
