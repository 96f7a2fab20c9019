package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlType;

/**
 * fp32 rows to GGUF Q8_0 blocks as ggml's {@code quantize_row_q8_0_ref} makes them: per 32 values
 * {@code d = max|x| / 127}, {@code q = round(x / d)} (ties away from zero, as C's {@code roundf}), {@code d} stored
 * as an IEEE half (round to nearest even). Decoding ({@code q · half(d)}) is then within {@code |d| / 2} plus the
 * half rounding of {@code d} of each value. Stateless.
 *
 * <pre>{@code
 * byte[] blocks = new byte[rows * cols / 32 * 34];
 * Q8Blocks.quantize(values, 0, blocks, 0, rows * cols / 32);
 * QuantMatrix w = new QuantMatrix.Ggml(GgmlType.Q8_0, rows, cols, blocks);
 * }</pre>
 */
public final class Q8Blocks {
    /** Values per block. */
    public static final int BLOCK = 32;
    /** Bytes per block: the half scale and 32 signed bytes. */
    public static final int BYTES = 34;

    static {
        if (GgmlType.Q8_0.blockSize() != BLOCK || GgmlType.Q8_0.typeSize() != BYTES) {
            throw new ExceptionInInitializerError("Q8_0 layout changed: " + GgmlType.Q8_0.blockSize() + " values in "
                    + GgmlType.Q8_0.typeSize() + " bytes");
        }
    }

    private Q8Blocks() {
    }

    /** {@code blocks} blocks of {@code src} from {@code srcOff} into {@code dst} from byte {@code dstOff}. */
    public static void quantize(float[] src, int srcOff, byte[] dst, int dstOff, int blocks) {
        for (int b = 0; b < blocks; b++) {
            int s = srcOff + b * BLOCK;
            int p = dstOff + b * BYTES;
            float amax = 0f;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(src[s + j]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            short h = halfOf(d);
            dst[p] = (byte) h;
            dst[p + 1] = (byte) (h >>> 8);
            for (int j = 0; j < BLOCK; j++) {
                float v = src[s + j] * id;
                dst[p + 2 + j] = (byte) (v < 0 ? -Math.round(-v) : Math.round(v));
            }
        }
    }

    /** fp32 to IEEE half, round to nearest even; overflow to infinity (ggml's {@code GGML_FP32_TO_FP16}). */
    static short halfOf(float value) {
        int x = Float.floatToRawIntBits(value);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00);
        }
        if (abs >= 0x477ff000) {
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) {
            return (short) (sign | (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24f));
        }
        int h = (((abs >>> 23) - 112) << 10) | ((abs >>> 13) & 0x3ff);
        int rest = abs & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1)) {
            h++;
        }
        return (short) (sign | h);
    }
}
