package io.peft4j.core.checkpoint.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hand-computed F16/BF16 values, plus exhaustive round trips over all 65536 bit patterns. */
class HalfFloatsTest {

    private static void f16(int bits, float expected) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) bits)),
                "F16 0x" + Integer.toHexString(bits));
    }

    private static void bf16(int bits, float expected) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(HalfFloats.bf16ToFloat((short) bits)),
                "BF16 0x" + Integer.toHexString(bits));
    }

    @Test
    void f16ToFloat_handComputed() {
        f16(0x3C00, 1f);            // exp 15 → 2^0
        f16(0xC000, -2f);           // sign, exp 16
        f16(0x3555, 0.33325195f);   // 2^-2 × (1 + 341/1024)
        f16(0x7BFF, 65504f);        // largest normal: 2^15 × (2 - 2^-10)
        f16(0x0400, 0x1p-14f);      // smallest normal
        f16(0x0001, 0x1p-24f);      // smallest subnormal: 1 × 2^-24 = 5.9604645e-8
        f16(0x03FF, 1023 * 0x1p-24f); // largest subnormal
        f16(0x8001, -0x1p-24f);
        f16(0x0000, 0f);
        f16(0x8000, -0f);
        f16(0x7C00, Float.POSITIVE_INFINITY);
        f16(0xFC00, Float.NEGATIVE_INFINITY);
        f16(0x7E00, Float.intBitsToFloat(0x7FC00000)); // quiet NaN, payload shifted by 13
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat((short) 0x7C01)));
    }

    @Test
    void bf16ToFloat_handComputed() {
        bf16(0x3F80, 1f);
        bf16(0xC040, -3f);
        bf16(0x3E80, 0.25f);
        bf16(0x7F7F, 3.3895314e38f);     // largest finite: bits 0x7F7F0000
        bf16(0x0080, 0x1p-126f);         // smallest normal
        bf16(0x0001, 0x1p-133f);         // smallest subnormal (float subnormal 0x00010000)
        bf16(0x8000, -0f);
        bf16(0x7F80, Float.POSITIVE_INFINITY);
        bf16(0xFF80, Float.NEGATIVE_INFINITY);
        bf16(0x7FC0, Float.intBitsToFloat(0x7FC00000));
    }

    @Test
    void floatToF16_roundsToNearestEven() {
        assertEquals(0x7BFF, HalfFloats.floatToF16(65519f) & 0xffff);     // just below the midpoint: down
        assertEquals(0x7C00, HalfFloats.floatToF16(65520f) & 0xffff);     // midpoint to 65536: even → inf
        assertEquals(0x3C00, HalfFloats.floatToF16(1f + 0x1p-11f) & 0xffff); // tie, 0x3C00 even: down
        assertEquals(0x3C02, HalfFloats.floatToF16(1f + 3 * 0x1p-11f) & 0xffff); // tie, 0x3C01 odd: up
        assertEquals(0x3C01, HalfFloats.floatToF16(1f + 0x1p-11f + 0x1p-20f) & 0xffff); // above tie: up
        assertEquals(0x0000, HalfFloats.floatToF16(0x1p-25f) & 0xffff);  // half the smallest subnormal: to 0
        assertEquals(0x0002, HalfFloats.floatToF16(3 * 0x1p-25f) & 0xffff); // 1.5 ulp tie: to even 2
        assertEquals(0x0400, HalfFloats.floatToF16(0x1p-14f - 0x1p-26f) & 0xffff); // rounds up into normals
        assertEquals(0x8000, HalfFloats.floatToF16(-0f) & 0xffff);
        assertEquals(0x8000, HalfFloats.floatToF16(-1e-10f) & 0xffff);
        assertEquals(0xFC00, HalfFloats.floatToF16(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x7E00, HalfFloats.floatToF16(Float.NaN) & 0xffff);
        assertEquals(0x3555, HalfFloats.floatToF16(1f / 3) & 0xffff);
    }

    @Test
    void floatToBf16_roundsToNearestEven() {
        assertEquals(0x3F80, HalfFloats.floatToBf16(1f + 0x1p-8f) & 0xffff);     // tie, even: down
        assertEquals(0x3F82, HalfFloats.floatToBf16(1f + 3 * 0x1p-8f) & 0xffff); // tie, odd: up
        assertEquals(0x3F81, HalfFloats.floatToBf16(1f + 0x1p-8f + 0x1p-20f) & 0xffff);
        assertEquals(0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE) & 0xffff); // overflows to inf
        assertEquals(0x3EAB, HalfFloats.floatToBf16(1f / 3) & 0xffff);
        assertEquals(0x8000, HalfFloats.floatToBf16(-0f) & 0xffff);
        assertEquals(0xFFFF, HalfFloats.floatToBf16(Float.intBitsToFloat(0xFFC00001)) & 0xffff);
        assertEquals(0xFFFF, HalfFloats.floatToBf16(Float.NaN) & 0xffff);
    }

    @Test
    void everyBitPattern_widenThenNarrow_isIdentity() {
        for (int h = 0; h < 0x10000; h++) {
            float f16 = HalfFloats.f16ToFloat((short) h);
            int expectedF16 = Float.isNaN(f16) ? (h & 0x8000) | 0x7E00 : h;
            assertEquals(expectedF16, HalfFloats.floatToF16(f16) & 0xffff, "F16 0x" + Integer.toHexString(h));
            float bf = HalfFloats.bf16ToFloat((short) h);
            int expectedBf = Float.isNaN(bf) ? 0xFFFF : h;
            assertEquals(expectedBf, HalfFloats.floatToBf16(bf) & 0xffff, "BF16 0x" + Integer.toHexString(h));
        }
    }
}
