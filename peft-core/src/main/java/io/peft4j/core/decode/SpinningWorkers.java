package io.peft4j.core.decode;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * Worker threads for the decode kernels that busy-wait for the next job instead of sleeping: a decode step calls the
 * matrix-vector kernel about 200 times, 20–60 µs apart, and a parked thread takes longer than that to wake (with a
 * fork-join pool the second core sat mostly idle). A job is a number of chunks that the caller and the workers claim
 * one at a time, so a thread slowed down by anything else on its core simply takes fewer. After
 * {@value #SPIN_MICROS} µs without a job a worker parks, so idle workers cost nothing. One job at a time: a caller
 * that finds the workers busy (another thread decoding, or a job started from inside a chunk) runs its chunks alone.
 * Daemon threads, started on first use. {@link #shared()} is the one set of workers of the JVM, sized like libtorch's
 * intra-op pool ({@code ai.djl.pytorch.num_threads}, else the available processors, counting the caller). Shared by
 * the decode kernels of peft-core and quantization.
 *
 * <pre>{@code
 * int per = (n + 7) / 8;
 * SpinningWorkers.shared().run(8, c -> kernel.multiply(m, x, 1, y, c * per, Math.min(n, (c + 1) * per)));
 * }</pre>
 *
 * @since 0.1.0
 */
public final class SpinningWorkers {
    static final long SPIN_MICROS = 300;
    private static final SpinningWorkers SHARED = new SpinningWorkers(Math.max(1, Integer.getInteger(
            "ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors())) - 1);

    private final Thread[] threads;
    private final boolean[] parked;
    private final ReentrantLock busy = new ReentrantLock();
    private volatile Job current;

    /** One {@link #run}: its chunks, the next unclaimed one and how many are finished. */
    private static final class Job {
        final IntConsumer body;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        volatile Throwable failure;

        Job(IntConsumer body, int chunks) {
            this.body = body;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void drain() {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    body.accept(c);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    finished.incrementAndGet();
                }
            }
        }
    }

    /** The JVM's decode workers. */
    public static SpinningWorkers shared() {
        return SHARED;
    }

    /** @param workers threads besides the caller */
    SpinningWorkers(int workers) {
        this.threads = new Thread[workers];
        this.parked = new boolean[workers];
    }

    /** Threads besides the caller. */
    public int workers() {
        return threads.length;
    }

    /**
     * Runs {@code body.accept(c)} for every {@code c < chunks}, on the caller and the workers, and returns when all
     * are done; the first failure is rethrown. Chunks run in any order and concurrently.
     */
    public void run(int chunks, IntConsumer body) {
        if (chunks <= 1 || threads.length == 0 || busy.isHeldByCurrentThread() || !busy.tryLock()) {
            for (int c = 0; c < chunks; c++) {
                body.accept(c);
            }
            return;
        }
        try {
            start();
            Job job = new Job(body, chunks);
            current = job;
            for (int i = 0; i < threads.length; i++) {
                if (isParked(i)) {
                    LockSupport.unpark(threads[i]);
                }
            }
            job.drain();
            while (job.finished.get() != chunks) {
                Thread.onSpinWait();
            }
            rethrow(job.failure);
        } finally {
            busy.unlock();
        }
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    private synchronized boolean isParked(int i) {
        return parked[i];
    }

    private synchronized void setParked(int i, boolean value) {
        parked[i] = value;
    }

    private void start() {
        if (threads[0] == null) {
            for (int i = 0; i < threads.length; i++) {
                int index = i;
                Thread t = new Thread(() -> loop(index), "peft4j-decode-" + (i + 1));
                t.setDaemon(true);
                threads[i] = t;
                t.start();
            }
        }
    }

    private void loop(int index) {
        Job seen = null;
        while (true) {
            long idleSince = System.nanoTime();
            Job job;
            while ((job = current) == seen) {
                if (System.nanoTime() - idleSince < SPIN_MICROS * 1_000) {
                    Thread.onSpinWait();
                    continue;
                }
                setParked(index, true);
                if (current == seen) {
                    LockSupport.park(this);
                }
                setParked(index, false);
                idleSince = System.nanoTime();
            }
            seen = job;
            job.drain();
        }
    }
}
