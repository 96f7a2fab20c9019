package io.peft4j.core.testing;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The fuzzers' contract for one generated hostile input: the reader either reads it or fails with one of the expected
 * exception types; any other exception, a case running past {@link #TIME_LIMIT_S} seconds (a hang) or a case
 * allocating more than {@link #HEAP_LIMIT_BYTES} of Java heap fails the property. Cases run one at a time on a
 * worker thread (so a hang can be detected and its allocations counted); {@link #mutate} derives the hostile bytes.
 *
 * <pre>{@code
 * HostileInput.check(List.of(CheckpointFormatException.class), () -> { try (var r = SafetensorsReader.open(f)) { } });
 * }</pre>
 */
public final class HostileInput {
    /** A case taking longer than this is a hang (generous: a case normally takes milliseconds). */
    public static final long TIME_LIMIT_S = 30;
    /** Heap a case may allocate in total; inputs are a few KB, so more means a length field was trusted. */
    public static final long HEAP_LIMIT_BYTES = 256L << 20;

    private static final ExecutorService WORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hostile-input");
        t.setDaemon(true);
        return t;
    });

    private HostileInput() {
    }

    /** A body that may throw anything. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /** The outcome of a case that passed: read, or refused with an expected exception (its message). */
    public record Outcome(boolean read, String refusal) {
    }

    /** Runs {@code body} under the contract; returns how it ended or throws {@link AssertionError}. */
    public static Outcome check(List<Class<? extends Throwable>> expected, Body body) {
        Future<Object[]> f = WORKER.submit(() -> {
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long id = Thread.currentThread().getId();
            long before = mx.getThreadAllocatedBytes(id);
            Throwable thrown = null;
            try {
                body.run();
            } catch (Throwable t) {
                thrown = t;
            }
            return new Object[] {thrown, mx.getThreadAllocatedBytes(id) - before};
        });
        Object[] result;
        try {
            result = f.get(TIME_LIMIT_S, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError("case did not finish within " + TIME_LIMIT_S + " s (a hang)");
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError("case could not run", e);
        }
        Throwable thrown = (Throwable) result[0];
        long allocated = (Long) result[1];
        if (allocated > HEAP_LIMIT_BYTES) {
            throw new AssertionError("case allocated " + (allocated >> 20) + " MiB of heap (limit "
                    + (HEAP_LIMIT_BYTES >> 20) + " MiB)", thrown);
        }
        if (thrown == null) {
            return new Outcome(true, null);
        }
        for (Class<? extends Throwable> c : expected) {
            if (c.isInstance(thrown)) {
                if (thrown.getMessage() == null || thrown.getMessage().isBlank()) {
                    throw new AssertionError("refusal without a message", thrown);
                }
                return new Outcome(false, thrown.getMessage());
            }
        }
        throw new AssertionError("unexpected " + thrown.getClass().getName() + ": " + thrown.getMessage(), thrown);
    }

    /**
     * One hostile variant of {@code valid}, chosen by {@code rng}: a truncation, 1-8 bit flips, a little-endian
     * length/offset field overwritten with an edge value, a byte range duplicated or deleted, or random bytes
     * spliced in.
     */
    public static byte[] mutate(byte[] valid, Random rng) {
        byte[] b = valid.clone();
        switch (rng.nextInt(6)) {
            case 0 -> {
                return java.util.Arrays.copyOf(b, rng.nextInt(b.length + 1));
            }
            case 1 -> {
                for (int i = 0, n = 1 + rng.nextInt(8); i < n && b.length > 0; i++) {
                    b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
                }
                return b;
            }
            case 2 -> {
                long[] edges = {0, 1, -1, 7, 8, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, 0xFFFFFFFFL,
                    Long.MAX_VALUE, Long.MIN_VALUE, b.length, b.length - 1L, b.length + 1L, 1L << 40};
                long v = edges[rng.nextInt(edges.length)];
                int width = rng.nextBoolean() ? 8 : 4;
                if (b.length >= width) {
                    int at = rng.nextInt(b.length - width + 1) & ~(rng.nextBoolean() ? 0 : 3);
                    for (int i = 0; i < width; i++) {
                        b[at + i] = (byte) (v >>> (8 * i));
                    }
                }
                return b;
            }
            case 3 -> {
                if (b.length < 2) {
                    return b;
                }
                int from = rng.nextInt(b.length);
                int to = from + rng.nextInt(Math.min(64, b.length - from) + 1);
                byte[] out = new byte[b.length - (to - from)];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, to, out, from, b.length - to);
                return out;
            }
            case 4 -> {
                int at = rng.nextInt(b.length + 1);
                byte[] junk = new byte[1 + rng.nextInt(16)];
                rng.nextBytes(junk);
                byte[] out = new byte[b.length + junk.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(junk, 0, out, at, junk.length);
                System.arraycopy(b, at, out, at + junk.length, b.length - at);
                return out;
            }
            default -> {
                if (b.length == 0) {
                    return b;
                }
                int from = rng.nextInt(b.length);
                int len = Math.min(b.length - from, 1 + rng.nextInt(32));
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, from + len);
                System.arraycopy(b, from, out, from + len, b.length - from);
                return out;
            }
        }
    }
}
