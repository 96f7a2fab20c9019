package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.quant.QuantType;

import java.util.Random;

/** Seeded random quantized matrices and inputs for the kernel oracle tests. */
final class RandomMatrices {
    private RandomMatrices() {
    }

    /** {@link #ggmlBlocks} repacked for the kernels. */
    static QuantMatrix.Ggml ggml(GgmlType type, int rows, int cols, Random rng) {
        return new QuantMatrix.Ggml(type, rows, cols, ggmlBlocks(type, rows, cols, rng));
    }

    /** Random GGUF blocks as a file stores them: random codes, fp16 scales (and mins) of realistic size. */
    static byte[] ggmlBlocks(GgmlType type, int rows, int cols, Random rng) {
        int nb = rows * (cols / 32);
        byte[] data = new byte[nb * type.typeSize()];
        rng.nextBytes(data);
        for (int b = 0; b < nb; b++) {
            int p = b * type.typeSize();
            putHalf(data, p, 0x1C00 | rng.nextInt(0x1000)); // scale in [2^-8, 2^-6)
            if (type == GgmlType.Q4_1) {
                putHalf(data, p + 2, 0xA400 | rng.nextInt(0x0C00)); // min in (-2^-3, -2^-6]
            }
        }
        return data;
    }

    /** Random 4-bit codes of {@code type} with random positive absmax per block. */
    static QuantMatrix.FourBit fourBit(QuantType type, int rows, int cols, int blockSize, Random rng) {
        long n = (long) rows * cols;
        byte[] packed = new byte[(int) ((n + 1) / 2)];
        rng.nextBytes(packed);
        float[] absmax = new float[(int) ((n + blockSize - 1) / blockSize)];
        for (int i = 0; i < absmax.length; i++) {
            absmax[i] = (float) (0.01 + 0.2 * rng.nextDouble());
        }
        return new QuantMatrix.FourBit(rows, cols, type.codebook(), blockSize, packed, absmax);
    }

    static float[] input(int n, Random rng) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        return x;
    }

    /** Σ_k |W[o,k] · x[r,k]| per output: the scale fp32 reordering error is bounded by. */
    static float[] absSums(QuantMatrix w, float[] x, int rows) {
        float[] row = new float[w.cols()];
        float[] out = new float[rows * w.rows()];
        for (int o = 0; o < w.rows(); o++) {
            ScalarMatVecKernel.decodeRow(w, o, row);
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int k = 0; k < w.cols(); k++) {
                    s += Math.abs(row[k] * x[r * w.cols() + k]);
                }
                out[r * w.rows() + o] = (float) s;
            }
        }
        return out;
    }

    /** Stores the half with bit pattern {@code h} little-endian. */
    private static void putHalf(byte[] data, int p, int h) {
        data[p] = (byte) h;
        data[p + 1] = (byte) (h >> 8);
    }
}
