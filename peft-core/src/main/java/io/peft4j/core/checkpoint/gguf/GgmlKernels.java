package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.internal.HalfFloats;
import io.peft4j.core.checkpoint.gguf.GgmlType;

/**
 * Scalar reference dequantization of ggml blocks to fp32: one method per block type, each following ggml's
 * {@code dequantize_row_*} (ggml-quants.c) operation for operation, so results are bit-identical (float
 * arithmetic in the same order, no fused multiply-add). This class is the spec; {@link GgmlDequantizer}
 * only splits work across threads and calls into it.
 *
 * <p>Stateless and thread-safe.
 *
 * <pre>{@code
 * float[] out = new float[32];
 * GgmlKernels.dequantize(GgmlType.Q4_0, blockBytes, 0, out, 0, 1);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgmlKernels {
    private GgmlKernels() {
    }

    /**
     * Dequantizes {@code nBlocks} consecutive blocks of {@code type} starting at {@code src[srcOff]} into
     * {@code dst[dstOff ..]} ({@code nBlocks * type.blockSize()} values).
     */
    public static void dequantize(GgmlType type, byte[] src, int srcOff, float[] dst, int dstOff, int nBlocks) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < nBlocks; i++) {
                    dst[dstOff + i] = Float.intBitsToFloat(u32(src, srcOff + 4 * i));
                }
                return;
            }
            case F16 -> {
                for (int i = 0; i < nBlocks; i++) {
                    dst[dstOff + i] = f16(src, srcOff + 2 * i);
                }
                return;
            }
            default -> {
                // block types below
            }
        }
        int ts = type.typeSize();
        int bs = type.blockSize();
        for (int b = 0; b < nBlocks; b++) {
            block(type, src, srcOff + b * ts, dst, dstOff + b * bs);
        }
    }

    /**
     * The fp32 scales of each of {@code nBlocks} Q4_0 / Q4_1 / Q8_0 blocks from {@code src[srcOff]}: {@code d} per
     * block, and for Q4_1 {@code d} then the min {@code m} ({@link #scalesPerBlock}). Widening a half is exact, so
     * ggml's formulas on these and the {@link #blockCodes codes} ({@code (q - 8)·d}, {@code q·d + m}, {@code q·d})
     * give its dequantized values bit for bit; decode kernels read these instead of widening halves per block.
     */
    public static float[] blockScales(GgmlType type, byte[] src, int srcOff, int nBlocks) {
        int per = scalesPerBlock(type);
        float[] out = new float[per * nBlocks];
        int ts = type.typeSize();
        for (int b = 0; b < nBlocks; b++) {
            int o = srcOff + b * ts;
            out[per * b] = f16(src, o);
            if (per == 2) {
                out[per * b + 1] = f16(src, o + 2);
            }
        }
        return out;
    }

    /**
     * The codes of each of {@code nBlocks} Q4_0 / Q4_1 / Q8_0 blocks from {@code src[srcOff]}, concatenated without
     * their halves: {@link #codeBytes} per block ({@code qs[16]}, element {@code j < 16} in the low nibble of byte
     * {@code j} and element {@code j + 16} in its high nibble; or Q8_0's {@code qs[32]} signed bytes).
     */
    public static byte[] blockCodes(GgmlType type, byte[] src, int srcOff, int nBlocks) {
        int cb = codeBytes(type);
        int ts = type.typeSize();
        int skip = ts - cb;
        byte[] out = new byte[Math.multiplyExact(cb, nBlocks)];
        for (int b = 0; b < nBlocks; b++) {
            System.arraycopy(src, srcOff + b * ts + skip, out, b * cb, cb);
        }
        return out;
    }

    /** Code bytes per block: 16 for Q4_0 and Q4_1, 32 for Q8_0 (other types are refused). */
    public static int codeBytes(GgmlType type) {
        return switch (type) {
            case Q4_0, Q4_1 -> 16;
            case Q8_0 -> 32;
            default -> throw new IllegalArgumentException("block codes and scales are defined for Q4_0, Q4_1 and "
                    + "Q8_0, not " + type);
        };
    }

    /** fp32 scales per block in {@link #blockScales}: 2 for Q4_1 ({@code d}, {@code m}), else 1 (other types refused). */
    public static int scalesPerBlock(GgmlType type) {
        codeBytes(type);
        return type == GgmlType.Q4_1 ? 2 : 1;
    }

    private static void block(GgmlType type, byte[] s, int o, float[] y, int yo) {
        switch (type) {
            case F32 -> y[yo] = Float.intBitsToFloat(u32(s, o));
            case F16 -> y[yo] = f16(s, o);
            case BF16 -> y[yo] = HalfFloats.bf16ToFloat(u16(s, o));
            case Q4_0 -> q4x(s, o, y, yo, false);
            case Q4_1 -> q4x(s, o, y, yo, true);
            case Q5_0 -> q5x(s, o, y, yo, false);
            case Q5_1 -> q5x(s, o, y, yo, true);
            case Q8_0 -> q8_0(s, o, y, yo);
            case Q2_K -> q2K(s, o, y, yo);
            case Q3_K -> q3K(s, o, y, yo);
            case Q4_K -> q45K(s, o, y, yo, false);
            case Q5_K -> q45K(s, o, y, yo, true);
            case Q6_K -> q6K(s, o, y, yo);
            default -> throw new IllegalArgumentException("no dequantization for ggml type " + type);
        }
    }

    /** block_q4_0 {half d; uint8 qs[16]} / block_q4_1 {half d; half m; uint8 qs[16]}. */
    private static void q4x(byte[] s, int o, float[] y, int yo, boolean hasMin) {
        float d = f16(s, o);
        float m = hasMin ? f16(s, o + 2) : 0f;
        int qs = o + (hasMin ? 4 : 2);
        for (int j = 0; j < 16; j++) {
            int q = s[qs + j] & 0xFF;
            if (hasMin) {
                y[yo + j] = (q & 0x0F) * d + m;
                y[yo + j + 16] = (q >>> 4) * d + m;
            } else {
                y[yo + j] = ((q & 0x0F) - 8) * d;
                y[yo + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }

    /** block_q5_0 {half d; uint8 qh[4]; uint8 qs[16]} / block_q5_1 {half d; half m; uint8 qh[4]; uint8 qs[16]}. */
    private static void q5x(byte[] s, int o, float[] y, int yo, boolean hasMin) {
        float d = f16(s, o);
        float m = hasMin ? f16(s, o + 2) : 0f;
        int p = o + (hasMin ? 4 : 2);
        int qh = u32(s, p);
        int qs = p + 4;
        for (int j = 0; j < 16; j++) {
            int q = s[qs + j] & 0xFF;
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            int x0 = (q & 0x0F) | xh0;
            int x1 = (q >>> 4) | xh1;
            if (hasMin) {
                y[yo + j] = x0 * d + m;
                y[yo + j + 16] = x1 * d + m;
            } else {
                y[yo + j] = (x0 - 16) * d;
                y[yo + j + 16] = (x1 - 16) * d;
            }
        }
    }

    /** block_q8_0 {half d; int8 qs[32]}. */
    private static void q8_0(byte[] s, int o, float[] y, int yo) {
        float d = f16(s, o);
        for (int j = 0; j < 32; j++) {
            y[yo + j] = s[o + 2 + j] * d;
        }
    }

    /** block_q2_K {uint8 scales[16]; uint8 qs[64]; half d; half dmin}. */
    private static void q2K(byte[] s, int o, float[] y, int yo) {
        float d = f16(s, o + 80);
        float min = f16(s, o + 82);
        int is = 0;
        int out = yo;
        for (int n = 0; n < 2; n++) {
            int q = o + 16 + 32 * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    int sc = s[o + is++] & 0xFF;
                    float dl = d * (sc & 0x0F);
                    float ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        y[out++] = dl * (((s[q + 16 * half + l] & 0xFF) >>> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /** block_q3_K {uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d}. */
    private static void q3K(byte[] s, int o, float[] y, int yo) {
        float dAll = f16(s, o + 108);
        int[] scales = q3Scales(s, o + 96);
        int is = 0;
        int out = yo;
        int m = 1;
        for (int n = 0; n < 2; n++) {
            int q = o + 32 + 32 * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    float dl = dAll * (scales[is++] - 32);
                    for (int l = 0; l < 16; l++) {
                        int i = 16 * half + l;
                        int lo = ((s[q + i] & 0xFF) >>> shift) & 3;
                        y[out++] = dl * (lo - ((s[o + i] & m) != 0 ? 0 : 4));
                    }
                }
                m <<= 1;
            }
        }
    }

    /** The sixteen 6-bit scales of a Q3_K block: low nibbles from bytes 0..7, high 2 bits from bytes 8..11. */
    static int[] q3Scales(byte[] s, int p) {
        int[] sc = new int[16];
        for (int j = 0; j < 16; j++) {
            int low = j < 8 ? s[p + j] & 0x0F : (s[p + j - 8] & 0xFF) >>> 4;
            int high = ((s[p + 8 + (j & 3)] & 0xFF) >>> (2 * (j >>> 2))) & 3;
            sc[j] = low | (high << 4);
        }
        return sc;
    }

    /**
     * block_q4_K {half d; half dmin; uint8 scales[12]; uint8 qs[128]} and
     * block_q5_K {half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}.
     */
    private static void q45K(byte[] s, int o, float[] y, int yo, boolean five) {
        float d = f16(s, o);
        float min = f16(s, o + 2);
        int sc = o + 4;
        int qh = o + 16;
        int ql = o + (five ? 48 : 16);
        int out = yo;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
            float d1 = d * scaleK4(s, sc, is);
            float m1 = min * minK4(s, sc, is);
            float d2 = d * scaleK4(s, sc, is + 1);
            float m2 = min * minK4(s, sc, is + 1);
            for (int l = 0; l < 32; l++) {
                int h = five && (s[qh + l] & u1) != 0 ? 16 : 0;
                y[out++] = d1 * ((s[ql + l] & 0x0F) + h) - m1;
            }
            for (int l = 0; l < 32; l++) {
                int h = five && (s[qh + l] & u2) != 0 ? 16 : 0;
                y[out++] = d2 * (((s[ql + l] & 0xFF) >>> 4) + h) - m2;
            }
            ql += 32;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    /** get_scale_min_k4: the 6-bit scale {@code j} (0..7) of a Q4_K/Q5_K block. */
    static int scaleK4(byte[] s, int q, int j) {
        if (j < 4) {
            return s[q + j] & 63;
        }
        return (s[q + j + 4] & 0x0F) | (((s[q + j - 4] & 0xFF) >>> 6) << 4);
    }

    /** get_scale_min_k4: the 6-bit min {@code j} (0..7) of a Q4_K/Q5_K block. */
    static int minK4(byte[] s, int q, int j) {
        if (j < 4) {
            return s[q + j + 4] & 63;
        }
        return ((s[q + j + 4] & 0xFF) >>> 4) | (((s[q + j] & 0xFF) >>> 6) << 4);
    }

    /** block_q6_K {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d}. */
    private static void q6K(byte[] s, int o, float[] y, int yo) {
        float d = f16(s, o + 208);
        int ql = o;
        int qh = o + 128;
        int sc = o + 192;
        for (int n = 0; n < 2; n++) {
            int out = yo + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int a = s[ql + l] & 0xFF;
                int b = s[ql + l + 32] & 0xFF;
                int h = s[qh + l] & 0xFF;
                int q1 = ((a & 0x0F) | ((h & 3) << 4)) - 32;
                int q2 = ((b & 0x0F) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((a >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((b >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[out + l] = d * s[sc + is] * q1;
                y[out + l + 32] = d * s[sc + is + 2] * q2;
                y[out + l + 64] = d * s[sc + is + 4] * q3;
                y[out + l + 96] = d * s[sc + is + 6] * q4;
            }
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }

    private static float f16(byte[] s, int o) {
        return HalfFloats.f16ToFloatQuietNaN(u16(s, o));
    }

    private static int u16(byte[] s, int o) {
        return (s[o] & 0xFF) | (s[o + 1] & 0xFF) << 8;
    }

    private static int u32(byte[] s, int o) {
        return (s[o] & 0xFF) | (s[o + 1] & 0xFF) << 8 | (s[o + 2] & 0xFF) << 16 | (s[o + 3] & 0xFF) << 24;
    }
}
