package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.gguf.GgmlDequantizer;
import io.peft4j.core.checkpoint.gguf.GgmlKernels;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each ggml block type dequantized from a hand-built block; expected values are worked out by hand from the
 * block layouts in ggml-common.h / ggml-quants.c (the comments show the arithmetic).
 */
class GgmlDequantTest {
    private static final int H_ONE = 0x3C00;
    private static final int H_HALF = 0x3800;
    private static final int H_QUARTER = 0x3400;
    private static final int H_TWO = 0x4000;
    private static final int H_MINUS_ONE = 0xBC00;

    private static float[] run(GgmlType t, byte[] block) {
        assertEquals(t.typeSize(), block.length, "block size of " + t);
        float[] y = new float[t.blockSize()];
        GgmlKernels.dequantize(t, block, 0, y, 0, 1);
        return y;
    }

    private static void half(byte[] b, int at, int bits) {
        b[at] = (byte) bits;
        b[at + 1] = (byte) (bits >>> 8);
    }

    /** qs byte j = j (low nibble) | (15 - j) (high nibble). */
    private static void nibbles(byte[] b, int at, int n) {
        for (int k = 0; k < n; k++) {
            b[at + k] = (byte) ((k % 16) | ((15 - k % 16) << 4));
        }
    }

    /**
     * ggml's formulas ({@code (q - 8)·d}, {@code q·d + m}, {@code q·d}) on {@link GgmlKernels#blockCodes} and
     * {@link GgmlKernels#blockScales} give ggml's dequantized values bit for bit, and so does the fused
     * {@code fma(q, d, offset)} the SIMD kernels use (as a value: a zero may come out +0 where ggml gives -0).
     */
    @Test
    void blockCodesAndScales_reproduceReferenceDequantization_exact() {
        Random rng = new Random(7);
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0}) {
            int blocks = 500;
            byte[] data = new byte[blocks * t.typeSize()];
            rng.nextBytes(data);
            for (int b = 0; b < blocks; b++) { // finite scales (random exponents, both signs)
                half(data, b * t.typeSize(), rng.nextInt(0x7800) | (rng.nextBoolean() ? 0x8000 : 0));
                if (t == GgmlType.Q4_1) {
                    half(data, b * t.typeSize() + 2, rng.nextInt(0x7800) | (rng.nextBoolean() ? 0x8000 : 0));
                }
            }
            float[] want = new float[blocks * 32];
            GgmlKernels.dequantize(t, data, 0, want, 0, blocks);
            float[] scales = GgmlKernels.blockScales(t, data, 0, blocks);
            byte[] codes = GgmlKernels.blockCodes(t, data, 0, blocks);
            int per = GgmlKernels.scalesPerBlock(t);
            int cb = GgmlKernels.codeBytes(t);
            assertEquals(per * blocks, scales.length);
            assertEquals(cb * blocks, codes.length);
            for (int b = 0; b < blocks; b++) {
                float d = scales[per * b];
                float offset = t == GgmlType.Q4_1 ? scales[per * b + 1] : t == GgmlType.Q4_0 ? -8f * d : 0f;
                for (int j = 0; j < 32; j++) {
                    int q = t == GgmlType.Q8_0 ? codes[b * cb + j] : (codes[b * cb + j % 16] >> (j < 16 ? 0 : 4)) & 0x0F;
                    float ggml = t == GgmlType.Q4_0 ? (q - 8) * d : t == GgmlType.Q4_1 ? q * d + offset : q * d;
                    String at = t + " block " + b + " element " + j;
                    assertEquals(Float.floatToRawIntBits(want[b * 32 + j]), Float.floatToRawIntBits(ggml), at);
                    assertTrue(want[b * 32 + j] == Math.fma(q, d, offset), at + " (fused)");
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> GgmlKernels.blockScales(GgmlType.Q5_0, new byte[22], 0, 1));
        assertThrows(IllegalArgumentException.class, () -> GgmlKernels.blockCodes(GgmlType.Q4_K, new byte[144], 0, 1));
    }

    @Test
    void plainTypes_handValues_exact() {
        assertArrayEquals(new float[] {1.5f, -2f}, dequant(GgmlType.F32, GgufTestWriter.floatsLe(1.5f, -2f), 2));
        // F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), -0.0
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B, 0x01, 0x00, 0x00, (byte) 0x80};
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f, -0f}, dequant(GgmlType.F16, f16, 5));
        // BF16 is the top half of an fp32: 0x3F80 = 1.0, 0xC040 = -3.0
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x40, (byte) 0xC0};
        assertArrayEquals(new float[] {1f, -3f}, dequant(GgmlType.BF16, bf16, 2));
    }

    private static float[] dequant(GgmlType t, byte[] bytes, int n) {
        float[] y = new float[n];
        GgmlKernels.dequantize(t, bytes, 0, y, 0, n);
        return y;
    }

    @Test
    void q4_0_handBlock_exact() {
        byte[] b = new byte[18];
        half(b, 0, H_HALF);
        nibbles(b, 2, 16);
        float[] y = run(GgmlType.Q4_0, b);
        assertEquals(-4f, y[0]);          // (0 - 8) * 0.5
        assertEquals(3.5f, y[15]);        // (15 - 8) * 0.5
        assertEquals(3.5f, y[16]);        // high nibble of qs[0] = 15: (15 - 8) * 0.5
        assertEquals(-4f, y[31]);         // high nibble of qs[15] = 0
    }

    @Test
    void q4_1_handBlock_exact() {
        byte[] b = new byte[20];
        half(b, 0, H_HALF);
        half(b, 2, H_MINUS_ONE);
        nibbles(b, 4, 16);
        float[] y = run(GgmlType.Q4_1, b);
        assertEquals(-1f, y[0]);          // 0 * 0.5 - 1
        assertEquals(1.5f, y[5]);         // 5 * 0.5 - 1
        assertEquals(6.5f, y[16]);        // 15 * 0.5 - 1
        assertEquals(-0.5f, y[30]);       // high nibble of qs[14] = 1: 0.5 - 1
    }

    @Test
    void q5_0_handBlock_exact() {
        byte[] b = new byte[22];
        half(b, 0, H_ONE);
        b[2] = (byte) 0xFF;               // qh = 0x0000FFFF: 5th bit set for y[0..15], clear for y[16..31]
        b[3] = (byte) 0xFF;
        nibbles(b, 6, 16);
        float[] y = run(GgmlType.Q5_0, b);
        assertEquals(0f, y[0]);           // (0 | 16) - 16
        assertEquals(7f, y[7]);           // (7 | 16) - 16
        assertEquals(-1f, y[16]);         // 15 - 16
        assertEquals(-16f, y[31]);        // 0 - 16
    }

    @Test
    void q5_1_handBlock_exact() {
        byte[] b = new byte[24];
        half(b, 0, H_HALF);
        half(b, 2, H_TWO);
        b[6] = (byte) 0xFF;               // qh = 0xFFFF0000: 5th bit only for y[16..31]
        b[7] = (byte) 0xFF;
        nibbles(b, 8, 16);
        float[] y = run(GgmlType.Q5_1, b);
        assertEquals(3.5f, y[3]);         // 3 * 0.5 + 2
        assertEquals(17.5f, y[16]);       // (15 | 16) * 0.5 + 2
        assertEquals(10f, y[31]);         // (0 | 16) * 0.5 + 2
    }

    @Test
    void q8_0_handBlock_exact() {
        byte[] b = new byte[34];
        half(b, 0, H_QUARTER);
        for (int j = 0; j < 32; j++) {
            b[2 + j] = (byte) (j - 16);
        }
        float[] y = run(GgmlType.Q8_0, b);
        assertEquals(-4f, y[0]);          // -16 * 0.25
        assertEquals(0f, y[16]);
        assertEquals(3.75f, y[31]);       // 15 * 0.25
    }

    @Test
    void q2_K_handBlock_exact() {
        byte[] b = new byte[84];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) (i | ((i % 3) << 4));   // scale i: low nibble i (x d), high nibble i % 3 (x dmin)
        }
        for (int k = 0; k < 64; k++) {
            b[16 + k] = (byte) (k < 32 ? 0xE4 : 0x1B);  // 2-bit groups: 0,1,2,3 (first 128) / 3,2,1,0 (last 128)
        }
        half(b, 80, H_HALF);              // d
        half(b, 82, H_ONE);               // dmin
        float[] y = run(GgmlType.Q2_K, b);
        assertEquals(-1f, y[16]);         // scale 1 (1, 1): 0.5 * 0 - 1
        assertEquals(-1f, y[32]);         // scale 2 (2, 2): 1.0 * 1 - 2
        assertEquals(9f, y[100]);         // scale 6 (6, 0): 3.0 * 3 - 0
        assertEquals(6f, y[200]);         // scale 12 (12, 0): 6.0 * 1
        assertEquals(9f, y[180]);         // scale 11 (11, 2): 5.5 * 2 - 2
    }

    @Test
    void q3_K_handBlock_exact() {
        byte[] b = new byte[110];
        for (int l = 0; l < 32; l++) {
            b[l] = 0x0F;                  // hmask bits 0..3 set: no -4 in the first 128 values, -4 in the last 128
        }
        for (int k = 0; k < 64; k++) {
            b[32 + k] = (byte) 0xE4;      // 2-bit groups 0,1,2,3
        }
        for (int k = 0; k < 8; k++) {
            b[96 + k] = (byte) ((8 + k) | (k << 4));  // 6-bit scales j = 24 + j: low nibbles
        }
        for (int k = 8; k < 12; k++) {
            b[96 + k] = (byte) 0xA5;      // high 2 bits: 1 for scales 0..7, 2 for scales 8..15
        }
        half(b, 108, H_ONE);
        float[] y = run(GgmlType.Q3_K, b);
        assertEquals(-6f, y[40]);         // scale 2: (26 - 32) * 1, q = 1
        assertEquals(-3f, y[127]);        // scale 7: -1, q = 3
        assertEquals(-8f, y[200]);        // scale 12: 4, q = 2 - 4
        assertEquals(-6f, y[170]);        // scale 10: 2, q = 1 - 4
        assertEquals(-7f, y[255]);        // scale 15: 7, q = 3 - 4
    }

    /** Q4_K/Q5_K scales: sc = 1..7 and 40, mins = 0, 2, .., 14 (sc 40 needs the high bits of byte 3). */
    private static void kScales(byte[] b, int at) {
        byte[] s = {1, 2, 3, (byte) (4 | (2 << 6)), 0, 2, 4, 6, (byte) 0x85, (byte) 0xA6, (byte) 0xC7, (byte) 0xE8};
        System.arraycopy(s, 0, b, at, 12);
    }

    @Test
    void q4_K_handBlock_exact() {
        byte[] b = new byte[144];
        half(b, 0, H_HALF);
        half(b, 2, H_QUARTER);
        kScales(b, 4);
        nibbles(b, 16, 128);
        float[] y = run(GgmlType.Q4_K, b);
        assertEquals(2.5f, y[5]);         // sub-block 0: 0.5 * 1 * 5 - 0.25 * 0
        assertEquals(6.5f, y[40]);        // sub-block 1: 1.0 * 7 - 0.5
        assertEquals(3f, y[130]);         // sub-block 4: 2.5 * 2 - 2.0
        assertEquals(296.5f, y[240]);     // sub-block 7: 20 * 15 - 3.5
    }

    @Test
    void q5_K_handBlock_exact() {
        byte[] b = new byte[176];
        half(b, 0, H_HALF);
        half(b, 2, H_QUARTER);
        kScales(b, 4);
        for (int l = 0; l < 32; l++) {
            b[16 + l] = 0x55;             // qh: +16 for every low-nibble half, none for the high-nibble halves
        }
        nibbles(b, 48, 128);
        float[] y = run(GgmlType.Q5_K, b);
        assertEquals(10.5f, y[5]);        // 0.5 * (5 + 16)
        assertEquals(6.5f, y[40]);        // 1.0 * 7 - 0.5
        assertEquals(43f, y[130]);        // 2.5 * (2 + 16) - 2
        assertEquals(296.5f, y[240]);     // 20 * 15 - 3.5
    }

    @Test
    void q6_K_handBlock_exact() {
        byte[] b = new byte[210];
        nibbles(b, 0, 128);               // ql
        for (int k = 0; k < 64; k++) {
            b[128 + k] = (byte) 0xE4;     // qh: 2-bit groups 0,1,2,3
        }
        for (int i = 0; i < 16; i++) {
            b[192 + i] = (byte) (i % 2 == 0 ? i + 1 : -(i + 1));
        }
        half(b, 208, H_HALF);
        float[] y = run(GgmlType.Q6_K, b);
        assertEquals(-16f, y[0]);         // 0.5 * 1 * (0 - 32)
        assertEquals(-22.5f, y[33]);      // 0.5 * 3 * ((1 | 16) - 32)
        assertEquals(-45f, y[80]);        // 0.5 * -6 * ((15 | 32) - 32)
        assertEquals(-168f, y[250]);      // 0.5 * -16 * ((5 | 48) - 32)
    }

    @Test
    void parallelDriver_manyBlocks_equalsScalarKernel() {
        Random r = new Random(7);
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_1, GgmlType.Q6_K, GgmlType.F16}) {
            int nBlocks = 5000;
            byte[] bytes = new byte[nBlocks * t.typeSize()];
            r.nextBytes(bytes);
            float[] scalar = new float[nBlocks * t.blockSize()];
            GgmlKernels.dequantize(t, bytes, 0, scalar, 0, nBlocks);
            float[] fast = new float[scalar.length];
            GgmlDequantizer.dequantize(t, ByteBuffer.wrap(bytes), fast.length, fast, 0);
            FloatBuffer direct = ByteBuffer.allocateDirect(4 * (scalar.length + 3)).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer();
            GgmlDequantizer.dequantize(t, ByteBuffer.wrap(bytes), scalar.length, direct, 3);
            for (int i = 0; i < scalar.length; i++) {
                int want = Float.floatToIntBits(scalar[i]); // canonical NaN: payloads may differ
                assertEquals(want, Float.floatToIntBits(fast[i]), t + " @" + i);
                assertEquals(want, Float.floatToIntBits(direct.get(i + 3)), t + " direct @" + i);
            }
        }
    }

    @Test
    void dequantizer_unsupportedOrPartial_refused() {
        float[] out = new float[64];
        assertThrows(IllegalArgumentException.class,
                () -> GgmlDequantizer.dequantize(GgmlType.IQ2_XXS, ByteBuffer.allocate(66), 256, new float[256], 0));
        assertThrows(IllegalArgumentException.class,
                () -> GgmlDequantizer.dequantize(GgmlType.Q4_0, ByteBuffer.allocate(36), 48, out, 0));
        assertThrows(IllegalArgumentException.class,
                () -> GgmlDequantizer.dequantize(GgmlType.Q4_0, ByteBuffer.allocate(18), 64, out, 0));
    }
}
