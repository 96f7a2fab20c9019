package io.peft4j.core.checkpoint.internal;

/**
 * IEEE 754 binary16 (F16) and bfloat16 (BF16) conversions to and from float. Widening is exact; narrowing
 * rounds to nearest, ties to even, byte for byte as PyTorch's CPU {@code Tensor.to(float16 / bfloat16)} does
 * (checked against the committed reference file written by the Python library), including the NaN encodings:
 * {@code 0x7E00} with the sign kept for F16, and {@code 0xFFFF} for BF16 (torch's vectorized CPU kernels emit
 * that; the scalar {@code c10::BFloat16} constructor would give {@code 0x7FC0}).
 * GGUF decoding reads halves through {@link #f16ToFloatQuietNaN(int)}, which quiets NaNs as the x86 F16C
 * instruction ggml uses does. {@code Float.float16ToFloat} exists only from Java 20, hence this class. The one
 * half-float converter of the project. Stateless, thread-safe.
 *
 * <pre>{@code
 * short h = HalfFloats.floatToF16(1f / 3);      // 0x3555
 * float back = HalfFloats.f16ToFloat(h);         // 0.33325195f
 * short b = HalfFloats.floatToBf16(1f + 0x1p-8f); // 0x3F80 (tie to even)
 * }</pre>
 */
public final class HalfFloats {
    private static final float[] F16_TABLE = new float[1 << 16]; // every half, widened once

    static {
        for (int h = 0; h < F16_TABLE.length; h++) {
            F16_TABLE[h] = widen(h);
        }
    }

    private HalfFloats() {
    }

    /** Exact F16 → float (subnormals, ±0, ±inf and NaN payloads kept). */
    public static float f16ToFloat(short half) {
        return F16_TABLE[half & 0xffff];
    }

    /** Exact F16 (bit pattern {@code bits & 0xFFFF}) → float with NaNs quieted, as ggml's F16C path gives them. */
    public static float f16ToFloatQuietNaN(int bits) {
        float f = F16_TABLE[bits & 0xffff];
        return Float.isNaN(f) ? Float.intBitsToFloat(Float.floatToRawIntBits(f) | 0x0040_0000) : f;
    }

    /** Exact BF16 (bit pattern {@code bits & 0xFFFF}) → float. */
    public static float bf16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    private static float widen(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): mant * 2^-24, exact in float
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float → F16, round to nearest even; overflow gives ±inf. */
    public static short floatToF16(float value) {
        int x = Float.floatToRawIntBits(value);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00); // NaN
        }
        if (abs >= 0x477ff000) {
            return (short) (sign | 0x7c00); // >= 65520 (incl. inf) rounds to inf
        }
        if (abs < 0x38800000) {
            // below the smallest normal 2^-14: a multiple of 2^-24, scaling by 2^24 is exact
            int m = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24f);
            return (short) (sign | m); // m == 1024 encodes the smallest normal, as it should
        }
        int h = (((abs >>> 23) - 112) << 10) | ((abs >>> 13) & 0x3ff);
        int rest = abs & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1)) {
            h++; // a carry into the exponent is the correct rounding
        }
        return (short) (sign | h);
    }

    /** float → BF16, round to nearest even; any NaN becomes {@code 0xFFFF} (as torch's CPU kernels write it). */
    public static short floatToBf16(float value) {
        if (Float.isNaN(value)) {
            return (short) 0xffff;
        }
        int u = Float.floatToRawIntBits(value);
        int bias = ((u >>> 16) & 1) + 0x7fff;
        return (short) ((u + bias) >>> 16);
    }
}
