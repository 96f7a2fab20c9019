package io.peft4j.core.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A series of (step, kB) memory samples and the robust statistics memory tests assert on: the least-squares slope
 * in kB per step, the median of neighbouring slopes (a leak of k kB per step shows as k; a one-off level change does
 * not), medians and quantiles (insensitive to spikes), and blocks thinned to a quantile before a slope, so spikes
 * cannot tilt it.
 *
 * <pre>{@code
 * MemorySeries s = new MemorySeries();
 * s.add(step, NativeMemory.settledKb());          // every few steps
 * double kbPerStep = s.blockQuantiles(12, 0.25).medianNeighbourSlope();
 * assertTrue(kbPerStep < 5, "native memory grows " + kbPerStep + " kB/step\n" + s);
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

    /**
     * The series thinned to {@code blocks} consecutive blocks of (nearly) equal size, each replaced by its median
     * step and its {@code q}-quantile of kB ({@code q = 0.5}: the median). Transient allocations only ever push a
     * sample up, so a low quantile such as 0.25 tracks the settled level even when a quarter to a half of a block's
     * samples land on a spike.
     */
    public MemorySeries blockQuantiles(int blocks, double q) {
        if (blocks < 1 || blocks > size() || q < 0 || q > 1) {
            throw new IllegalArgumentException(blocks + " blocks of quantile " + q + " for " + size() + " samples");
        }
        MemorySeries out = new MemorySeries();
        for (int b = 0; b < blocks; b++) {
            MemorySeries block = window(b * size() / blocks, (b + 1) * size() / blocks);
            out.add(quantile(block.points.stream().mapToDouble(p -> p[0]).toArray(), 0.5), block.quantile(q));
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

    /**
     * The median of the slopes between neighbouring samples, in kB per step. A leak raises every one of them, so it
     * shows in full; a one-off level change (the allocator or the JIT compiler taking or giving back a few MB) moves
     * only the one or two slopes around it, which the median ignores. Apply it to {@link #blockQuantiles} so that
     * sample noise is averaged first.
     */
    public double medianNeighbourSlope() {
        if (size() < 2) {
            throw new IllegalStateException("a slope needs at least 2 samples, have " + size());
        }
        double[] slopes = new double[size() - 1];
        for (int i = 0; i + 1 < size(); i++) {
            double dx = points.get(i + 1)[0] - points.get(i)[0];
            if (dx == 0) {
                throw new IllegalStateException("a slope needs samples at different steps");
            }
            slopes[i] = (points.get(i + 1)[1] - points.get(i)[1]) / dx;
        }
        return quantile(slopes, 0.5);
    }

    /** Median of the kB values (mean of the middle two for an even count). */
    public double median() {
        if (points.isEmpty()) {
            throw new IllegalStateException("no samples");
        }
        return quantile(0.5);
    }

    /** The {@code q}-quantile of the kB values, interpolated linearly between order statistics. */
    public double quantile(double q) {
        if (points.isEmpty()) {
            throw new IllegalStateException("no samples");
        }
        return quantile(points.stream().mapToDouble(p -> p[1]).toArray(), q);
    }

    private static double quantile(double[] values, double q) {
        double[] v = values.clone();
        Arrays.sort(v);
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, v.length - 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }

    /** The samples as {@code step: kB} lines, for assertion messages. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("step: kB\n");
        points.forEach(p -> sb.append(String.format("  %7.0f: %.0f%n", p[0], p[1])));
        return sb.toString();
    }
}
