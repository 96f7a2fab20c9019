package io.peft4j.bench;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

/**
 * The medians the benches report, in one place: a shared machine's load comes in bursts, so every figure is a
 * median of repeated timings rather than a mean. Stateless.
 *
 * <pre>{@code
 * double seconds = Medians.timed(3, () -> timeOneStep());   // one warm-up call, then the median of 3
 * }</pre>
 */
final class Medians {
    private Medians() {
    }

    /** Median of a sorted array (the mean of the middle two for an even length). */
    static double median(double[] sorted) {
        int k = sorted.length;
        return k % 2 == 1 ? sorted[k / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
    }

    /** Median of {@code values} in any order (the mean of the middle two for an even length); left as it was. */
    static double of(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return median(s);
    }

    /** The upper median of {@code values} (element {@code n / 2} once sorted); {@code values} is left as it was. */
    static double upper(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** Calls {@code run} once unrecorded (warm-up), then {@code max(1, n)} times: the upper median of those. */
    static double timed(int n, DoubleSupplier run) {
        run.getAsDouble();
        double[] t = new double[Math.max(1, n)];
        for (int i = 0; i < t.length; i++) {
            t[i] = run.getAsDouble();
        }
        return upper(t);
    }
}
