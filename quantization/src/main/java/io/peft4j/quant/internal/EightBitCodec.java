package io.peft4j.quant.internal;

/**
 * bitsandbytes 0.50's 8-bit blockwise quantization on CPU ({@code cquantize_blockwise_cpu_fp32}): a 65536-entry
 * lookup table maps {@code (uint16)(((v + 1) * 0.5) * 65535 + 0.5)} of the scaled value to the nearest code, where
 * entry {@code i} holds the first code whose upper midpoint is not below {@code -1 + 2i/65535}. Per block:
 * {@code absmax = max|x|}; an all-zero block stores code 0; otherwise {@code v = clamp(x * (1/absmax), -1, 1)}.
 * Each table is built once per codebook instance.
 */
public final class EightBitCodec {
    private static final int LUT_SIZE = 65536;

    private final byte[] lut = new byte[LUT_SIZE];

    /** @param code 256 sorted values in [-1, 1] (the dynamic map) */
    public EightBitCodec(float[] code) {
        if (code.length != 256) {
            throw new IllegalArgumentException("8-bit codebook needs 256 values, got " + code.length);
        }
        float[] mid = new float[255];
        for (int i = 0; i < 255; i++) {
            mid[i] = 0.5f * (code[i] + code[i + 1]);
        }
        int codeIdx = 0;
        for (int i = 0; i < LUT_SIZE; i++) {
            float val = -1.0f + (2.0f * i) / (float) (LUT_SIZE - 1);
            while (codeIdx < 255 && mid[codeIdx] < val) {
                codeIdx++;
            }
            lut[i] = (byte) codeIdx;
        }
    }

    /** Fills {@code out [n]} with codes and returns the absmax per block {@code [ceil(n/blockSize)]}. */
    public float[] quantize(float[] x, int blockSize, byte[] out) {
        return quantize(x, x.length, blockSize, out);
    }

    /** As {@link #quantize(float[], int, byte[])} over the first {@code n} values of {@code x}. */
    public float[] quantize(float[] x, int n, int blockSize, byte[] out) {
        int blocks = (n + blockSize - 1) / blockSize;
        float[] absmax = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int start = b * blockSize;
            int end = Math.min(start + blockSize, n);
            float am = 0f;
            for (int i = start; i < end; i++) {
                am = Math.max(am, Math.abs(x[i]));
            }
            absmax[b] = am;
            if (am == 0f) {
                for (int i = start; i < end; i++) {
                    out[i] = 0;
                }
                continue;
            }
            float inv = 1.0f / am;
            for (int i = start; i < end; i++) {
                float v = Math.min(1f, Math.max(-1f, x[i] * inv));
                float t = (v + 1.0f) * 0.5f;
                t = t * (float) (LUT_SIZE - 1);
                out[i] = lut[(int) (t + 0.5f)];
            }
        }
        return absmax;
    }
}
