package io.peft4j.core.io;

import java.nio.FloatBuffer;

/**
 * Checks that tensor data about to be saved, or just loaded, holds no NaN or infinite value: a NaN adapter or model
 * is useless and spreads (every output it touches becomes NaN), so it is refused with the tensor's name. Stateless.
 *
 * <pre>{@code
 * int bad = FiniteValues.firstNonFinite(array.toFloatArray());
 * if (bad >= 0) throw new IllegalStateException("NaN at " + bad);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class FiniteValues {
    private FiniteValues() {
    }

    /** Index of the first NaN or infinite value in {@code values}, or -1 if all are finite. */
    public static int firstNonFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * One line naming the tensor and the first bad value, e.g.
     * {@code tensor 'x' has a non-finite value (NaN) at index 3 of 16}; null if all values are finite.
     */
    public static String describe(String tensor, float[] values) {
        int i = firstNonFinite(values);
        return i < 0 ? null : "tensor '" + tensor + "' has a non-finite value (" + values[i] + ") at index " + i
                + " of " + values.length;
    }

    /** As {@link #describe(String, float[])} over the remaining values of {@code values} (read in place, no copy). */
    public static String describe(String tensor, FloatBuffer values) {
        int start = values.position();
        int n = values.remaining();
        for (int i = 0; i < n; i++) {
            float v = values.get(start + i);
            if (!Float.isFinite(v)) {
                return "tensor '" + tensor + "' has a non-finite value (" + v + ") at index " + i + " of " + n;
            }
        }
        return null;
    }
}
