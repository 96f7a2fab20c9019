package io.peft4j.quant;

import io.peft4j.quant.internal.kernel.MatVec;

/**
 * What the decode path of quantized layers ({@link GgmlBlockLinear}, 4-bit {@link QuantizedLinear}) runs on: the
 * matrix-vector kernel chosen once per JVM ({@code vector-512}, {@code vector-256}, {@code scalar} or {@code off},
 * with the reason; logged once at INFO), the crossover (inputs of at most {@link #maxRows()} rows at inference take
 * it) and how often it ran. Set with {@code -Dpeft4j.decode.kernel=auto|vector|scalar|off} and
 * {@code -Dpeft4j.decode.maxRows=N}; the SIMD kernel needs {@code --add-modules jdk.incubator.vector} (the
 * {@code ./peft4j} launcher passes it). Thread-safe.
 *
 * <pre>{@code
 * String kernel = DecodeKernels.describe();   // e.g. "vector-512 (jdk.incubator.vector present)"
 * long before = DecodeKernels.calls();
 * }</pre>
 *
 * @since 0.1.0
 */
public final class DecodeKernels {
    private DecodeKernels() {
    }

    /** The chosen kernel and why, e.g. {@code vector-512 (jdk.incubator.vector present)}. */
    public static String describe() {
        return MatVec.describe();
    }

    /** The largest number of input rows a forward may have to take the decode path. */
    public static int maxRows() {
        return MatVec.maxRows();
    }

    /** Layer forwards that took the decode path so far in this JVM. */
    public static long calls() {
        return MatVec.calls();
    }
}
