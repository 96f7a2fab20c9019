package io.peft4j.quant.internal;

import io.peft4j.quant.QuantType;

import java.util.ArrayList;
import java.util.List;

/**
 * bitsandbytes 0.50's 4-bit blockwise quantization on CPU (the {@code default} backend kernel of
 * {@code bitsandbytes::quantize_4bit}, which the CPU backend uses): per block of {@code blockSize} values
 * {@code absmax = max|x|}; full blocks scale by {@code x * (1 / max(absmax, 1e-38))}, a trailing partial block by
 * {@code x / max(absmax, 1e-38)} (and stores the clamped absmax); clamp to [-1, 1]; the code is
 * {@code torch.bucketize(scaled, midpoints)} over the sorted codebook (ties go to the lower value), mapped back to
 * bit-pattern order for FP4; an odd count is padded with 0; codes pack two per byte, first element high nibble.
 */
public final class FourBitCodec {
    private static final float MIN_ABSMAX = 1e-38f;

    private final float[] midpoints; // [15] fp32 midpoints of the sorted codebook
    private final int[] order;       // [16] sorted position -> code

    public FourBitCodec(QuantType type) {
        if (type.bits() != 4) {
            throw new IllegalArgumentException("FourBitCodec needs a 4-bit type, got " + type);
        }
        float[] code = type.codebook();
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            idx.add(i);
        }
        // stable sort by value with -0.0 == 0.0, as torch.argsort on the 16-value table
        idx.sort((a, b) -> code[a] < code[b] ? -1 : code[a] > code[b] ? 1 : 0);
        order = idx.stream().mapToInt(Integer::intValue).toArray();
        midpoints = new float[15];
        for (int i = 0; i < 15; i++) {
            midpoints[i] = (code[order[i]] + code[order[i + 1]]) / 2f;
        }
    }

    /** Fills {@code packed [ceil(n/2)]} and returns the absmax per block {@code [ceil(n/blockSize)]}. */
    public float[] quantize(float[] x, int blockSize, byte[] packed) {
        return quantize(x, x.length, blockSize, packed);
    }

    /** As {@link #quantize(float[], int, byte[])} over the first {@code n} values of {@code x}. */
    public float[] quantize(float[] x, int n, int blockSize, byte[] packed) {
        int rem = n % blockSize;
        int full = n - rem;
        int blocks = full / blockSize + (rem > 0 ? 1 : 0);
        float[] absmax = new float[blocks];
        int prev = -1;
        for (int b = 0; b < blocks; b++) {
            int start = b * blockSize;
            int end = Math.min(start + blockSize, n);
            float am = 0f;
            for (int i = start; i < end; i++) {
                am = Math.max(am, Math.abs(x[i]));
            }
            boolean tail = start >= full;
            float clamped = Math.max(am, MIN_ABSMAX);
            absmax[b] = tail ? clamped : am;
            float inv = 1f / clamped;
            for (int i = start; i < end; i++) {
                float s = tail ? x[i] / clamped : x[i] * inv;
                int q = code(Math.min(1f, Math.max(-1f, s)));
                prev = put(packed, i, q, prev);
            }
        }
        if ((n & 1) == 1) {
            put(packed, n, code(0f), prev);
        }
        return absmax;
    }

    private static int put(byte[] packed, int i, int q, int prev) {
        if ((i & 1) == 0) {
            return q;
        }
        packed[i >> 1] = (byte) ((prev << 4) | q);
        return -1;
    }

    /** The code of a scaled value: number of midpoints strictly below it, mapped to bit-pattern order. */
    int code(float scaled) {
        int k = 0;
        while (k < 15 && midpoints[k] < scaled) {
            k++;
        }
        return order[k];
    }
}
