package io.peft4j.core.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native-memory trend of a long loop, as memory tests assert it: at each {@link #sample} it records RSS outside
 * the Java heap ({@link NativeMemory#settledKb()}) and, with glibc, the bytes {@code malloc} has handed out
 * ({@link NativeMemory#mallocInUseKb()}) less the JVM's own share of them ({@link NativeMemory#jvmMallocKb()}, when
 * Native Memory Tracking is on, as the test argLine sets it). That subtraction removes the largest noise: the
 * compiler's arenas swing the JVM's share between 9 and 22 MB in a sawtooth on a timer of their own, while what
 * remains (libtorch, JNI, direct buffers) stays within 0.1 MB over 1,000 training steps (docs/djl-notes.md).
 * A slope, in kB per step, thins all samples to {@value #BLOCKS} blocks, reduces each to its lower quartile and
 * takes the median of the slopes between neighbouring blocks ({@link MemorySeries#medianNeighbourSlope()}): a leak
 * of k kB per step shows as ~k, while transient allocations (they only push a sample up) and one-off level changes
 * do not. Take the samples after a warm-up; allocator growth settles there.
 *
 * <pre>{@code
 * NativeMemoryTrend trend = new NativeMemoryTrend();
 * for (int step = 1; step <= 1500; step++) {
 *     trainOneStep();
 *     if (step > 500 && step % 10 == 0) {
 *         trend.sample(step);
 *     }
 * }
 * trend.assertSlopesBelow(5, 20);     // kB/step: malloc'd bytes, RSS outside the heap
 * }</pre>
 */
public final class NativeMemoryTrend {
    /** Blocks the samples are thinned to before the slope. */
    public static final int BLOCKS = 12;
    /** The quantile each block is reduced to. */
    public static final double QUANTILE = 0.25;

    private final MemorySeries rssKb = new MemorySeries();
    private final MemorySeries mallocKb = new MemorySeries();
    private final MemorySeries jvmMallocKb = new MemorySeries();

    /** Records both measures at {@code step} (after a full GC); the malloc count less the JVM's own share. */
    public void sample(double step) {
        rssKb.add(step, NativeMemory.settledKb());
        NativeMemory.mallocLessJvmKb().ifPresent(kb -> mallocKb.add(step, kb));
        NativeMemory.jvmMallocKb().ifPresent(kb -> jvmMallocKb.add(step, kb));
    }

    /** What the JVM itself held of the malloc'd bytes at each sample (empty without Native Memory Tracking). */
    public MemorySeries jvmMallocKb() {
        return jvmMallocKb;
    }

    public MemorySeries rssKb() {
        return rssKb;
    }

    /** The malloc'd kB less the JVM's own share (all of them without Native Memory Tracking); empty without glibc. */
    public MemorySeries mallocKb() {
        return mallocKb;
    }

    /** kB per step of RSS outside the heap. */
    public double rssSlope() {
        return slope(rssKb);
    }

    /** kB per step of {@code malloc}'d bytes; NaN without glibc (then only {@link #rssSlope()} can be checked). */
    public double mallocSlope() {
        return mallocKb.size() == 0 ? Double.NaN : slope(mallocKb);
    }

    /** One line: both slopes and the late RSS median. */
    public String summary() {
        return String.format("malloc'd memory%s %.2f kB/step, RSS outside the heap %.2f kB/step (median %.0f MB) "
                + "over %d samples", jvmMallocKb.size() > 0 ? " (less the JVM's own)" : "", mallocSlope(), rssSlope(),
                rssKb.median() / 1024, rssKb.size());
    }

    /**
     * Fails unless the malloc slope (when glibc gives one) is below {@code mallocKbPerStep} and the RSS slope below
     * {@code rssKbPerStep}; the message holds the summary and the offending series.
     */
    public void assertSlopesBelow(double mallocKbPerStep, double rssKbPerStep) {
        if (mallocKb.size() > 0) {
            assertTrue(mallocSlope() < mallocKbPerStep, summary() + "\nmalloc'd " + mallocKb);
        }
        assertTrue(rssSlope() < rssKbPerStep, summary() + "\nRSS outside the heap " + rssKb);
    }

    /** The statistic both slopes use, for any series. */
    public static double slope(MemorySeries s) {
        return s.blockQuantiles(BLOCKS, QUANTILE).medianNeighbourSlope();
    }
}
