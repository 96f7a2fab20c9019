package io.peft4j.core.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A series of (step, kB) memory samples and the robust statistics memory tests assert on: the least-squares slope
 * in kB per step (a leak of k kB per step shows as a slope of k however noisy single samples are, while a one-off
 * spike of h kB moves it by only about h / window) and the median (insensitive to single spikes).
 *
 * <pre>{@code
 * MemorySeries s = new MemorySeries();
 * s.add(step, NativeMemory.settledKb());          // every few steps
 * MemorySeries late = s.secondHalf();
 * assertTrue(late.slope() < 4, "native memory grows " + late.slope() + " kB/step\n" + s);
 * }</pre>
 */
public final class MemorySeries {
    private final List<double[]> points = new ArrayList<>();   // {step, kB}

    /** Appends one sample; returns this. */
    public MemorySeries add(double step, double kb) {
        points.add(new double[] {step, kb});
        return this;
    }

    public int size() {
        return points.size();
    }

    /** A copy of samples {@code from} (inclusive) to {@code to} (exclusive). */
    public MemorySeries window(int from, int to) {
        MemorySeries w = new MemorySeries();
        points.subList(from, to).forEach(p -> w.add(p[0], p[1]));
        return w;
    }

    /** The later half of the samples (the middle one included when the count is odd). */
    public MemorySeries secondHalf() {
        return window(size() / 2, size());
    }

    /**
     * The series thinned to {@code blocks} consecutive blocks of (nearly) equal size, each replaced by its median
     * step and median kB: a spike that lasts less than half a block disappears before a {@link #slope()}.
     */
    public MemorySeries blockMedians(int blocks) {
        if (blocks < 1 || blocks > size()) {
            throw new IllegalArgumentException(blocks + " blocks for " + size() + " samples");
        }
        MemorySeries out = new MemorySeries();
        for (int b = 0; b < blocks; b++) {
            MemorySeries block = window(b * size() / blocks, (b + 1) * size() / blocks);
            out.add(median(block.points.stream().mapToDouble(p -> p[0]).toArray()), block.median());
        }
        return out;
    }

    /** Least-squares slope of kB over steps, in kB per step; needs two samples at different steps. */
    public double slope() {
        if (size() < 2) {
            throw new IllegalStateException("a slope needs at least 2 samples, have " + size());
        }
        double mx = points.stream().mapToDouble(p -> p[0]).average().orElseThrow();
        double my = points.stream().mapToDouble(p -> p[1]).average().orElseThrow();
        double sxy = 0;
        double sxx = 0;
        for (double[] p : points) {
            sxy += (p[0] - mx) * (p[1] - my);
            sxx += (p[0] - mx) * (p[0] - mx);
        }
        if (sxx == 0) {
            throw new IllegalStateException("a slope needs samples at different steps");
        }
        return sxy / sxx;
    }

    /** Median of the kB values (mean of the middle two for an even count). */
    public double median() {
        if (points.isEmpty()) {
            throw new IllegalStateException("no samples");
        }
        return median(points.stream().mapToDouble(p -> p[1]).toArray());
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** The samples as {@code step: kB} lines, for assertion messages. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("step: kB\n");
        points.forEach(p -> sb.append(String.format("  %7.0f: %.0f%n", p[0], p[1])));
        return sb.toString();
    }
}
