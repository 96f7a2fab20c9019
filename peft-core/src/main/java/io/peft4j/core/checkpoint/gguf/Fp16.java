package io.peft4j.core.checkpoint.gguf;

/**
 * IEEE 754 half (binary16) and bfloat16 to fp32, exact (every half is representable as a float). Half values go
 * through a 64K-entry table built once from {@link #halfToFloatSlow(int)}. NaNs come back quiet, as the x86 F16C
 * instruction ggml uses does.
 *
 * <pre>{@code
 * float one = Fp16.halfToFloat(0x3C00);
 * float two = Fp16.bf16ToFloat(0x4000);
 * }</pre>
 */
public final class Fp16 {
    private static final float[] TABLE = new float[1 << 16];

    static {
        for (int h = 0; h < TABLE.length; h++) {
            TABLE[h] = halfToFloatSlow(h);
        }
    }

    private Fp16() {
    }

    /** The half with bit pattern {@code bits & 0xFFFF} as a float. */
    public static float halfToFloat(int bits) {
        return TABLE[bits & 0xFFFF];
    }

    /** The bfloat16 with bit pattern {@code bits & 0xFFFF} as a float (the top half of an fp32). */
    public static float bf16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Bit-level conversion (the table's source). */
    static float halfToFloatSlow(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            int quiet = mant == 0 ? 0 : 0x0040_0000;
            return Float.intBitsToFloat(sign | 0x7F80_0000 | quiet | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact since mant < 2^10
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
