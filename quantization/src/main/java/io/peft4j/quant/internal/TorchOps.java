package io.peft4j.quant.internal;

/**
 * The few PyTorch CPU reductions and factories whose exact fp32 rounding bitsandbytes' results depend on, emulated
 * operation by operation: {@code torch.linspace} (used to build the code tables) and {@code torch.mean} (the offset of
 * double quantization). The sum emulates ATen's {@code cascade_sum} with 8 fp32 lanes and, from
 * {@link #GRAIN_SIZE} elements on, the two-pass split over {@link #THREADS} intra-op threads; checked bit for bit
 * against torch 2.15 (2 threads) for lengths 1..79 and up to 70000. PyTorch's own result depends on its thread
 * count for long vectors, so bitsandbytes is only reproducible under the same setting.
 */
final class TorchOps {
    /** fp32 lanes of the vectorized sum kernel. */
    static final int LANES = 8;
    /** ATen {@code internal::GRAIN_SIZE}: reductions from this many elements on are split over threads. */
    static final int GRAIN_SIZE = 32768;
    /** PyTorch's default intra-op thread count on the reference machine. */
    static final int THREADS = 2;

    private TorchOps() {
    }

    /**
     * {@code torch.linspace(start, end, steps)} in fp32 (ATen {@code linspace_kernel}): elements before
     * {@code steps/2} are {@code start + step*idx}, the rest {@code end - step*(steps-idx-1)}, each a fused
     * multiply-add as the compiled kernel does (checked against torch 2.15 for every length the code tables use).
     */
    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (steps - i - 1), end);
        }
        return out;
    }

    /** {@code torch.mean} of a contiguous fp32 vector: ATen's cascade sum (below) divided by {@code n} in fp32. */
    static float mean(float[] x) {
        return sum(x) / (float) x.length;
    }

    /**
     * ATen {@code cascade_sum} for one contiguous row ({@code vectorized_inner_sum} when the row holds at least one
     * full vector, else {@code scalar_inner_sum}): partial sums in 4 interleaved accumulators (ILP), each a 4-level
     * cascade, of 16-lane vectors; then the scalar tail, then the lanes in order.
     */
    static float sum(float[] x) {
        if (x.length < GRAIN_SIZE) {
            return serialSum(x, 0, x.length);
        }
        // two_pass_reduction: one partial per thread over parallel_for chunks, then added in thread order
        int chunk = (x.length + THREADS - 1) / THREADS;
        float total = 0f;
        for (int t = 0; t < THREADS; t++) {
            int from = Math.min(x.length, t * chunk);
            total += serialSum(x, from, Math.min(x.length, from + chunk));
        }
        return total;
    }

    private static float serialSum(float[] all, int from, int to) {
        float[] x = from == 0 && to == all.length ? all : java.util.Arrays.copyOfRange(all, from, to);
        int n = x.length;
        if (n < LANES) {
            return rowSumScalar(x, 0, n);
        }
        int vecSize = n / LANES;
        float[] vecAcc = rowSumVec(x, vecSize);
        float acc = 0f;
        for (int k = vecSize * LANES; k < n; k++) {
            acc += x[k];
        }
        for (int l = 0; l < LANES; l++) {
            acc += vecAcc[l];
        }
        return acc;
    }

    /** {@code row_sum<float>} over {@code size} scalars starting at {@code from}. */
    private static float rowSumScalar(float[] x, int from, int size) {
        int sizeIlp = size / 4;
        float[][] partial = multiRowSum(x, from, sizeIlp, 1);
        float[] p = new float[4];
        for (int k = 0; k < 4; k++) {
            p[k] = partial[k][0];
        }
        for (int i = sizeIlp * 4; i < size; i++) {
            p[0] += x[from + i];
        }
        for (int k = 1; k < 4; k++) {
            p[0] += p[k];
        }
        return p[0];
    }

    /** {@code row_sum<Vectorized<float>>} over {@code vecSize} vectors of 16 lanes. */
    private static float[] rowSumVec(float[] x, int vecSize) {
        int sizeIlp = vecSize / 4;
        float[][] p = multiRowSum(x, 0, sizeIlp, LANES);
        for (int v = sizeIlp * 4; v < vecSize; v++) {
            for (int l = 0; l < LANES; l++) {
                p[0][l] += x[v * LANES + l];
            }
        }
        for (int k = 1; k < 4; k++) {
            for (int l = 0; l < LANES; l++) {
                p[0][l] += p[k][l];
            }
        }
        return p[0];
    }

    /**
     * {@code multi_row_sum<acc, nrows=4>}: row {@code i} of the (-1, 4) view holds elements {@code 4i..4i+3}
     * (each element a vector of {@code width} lanes); 4 cascade levels of {@code 2^max(4, ceil(log2(size))/4)}.
     */
    private static float[][] multiRowSum(float[] x, int from, int size, int width) {
        final int levels = 4;
        final int nrows = 4;
        int levelPower = Math.max(4, ceilLog2(size) / levels);
        long levelStep = 1L << levelPower;
        long levelMask = levelStep - 1;
        float[][][] acc = new float[levels][nrows][width];
        long i = 0;
        while (i + levelStep <= size) {
            for (long j = 0; j < levelStep; j++, i++) {
                addRow(acc[0], x, from, (int) i, width);
            }
            for (int j = 1; j < levels; j++) {
                for (int k = 0; k < nrows; k++) {
                    for (int l = 0; l < width; l++) {
                        acc[j][k][l] += acc[j - 1][k][l];
                        acc[j - 1][k][l] = 0f;
                    }
                }
                long mask = levelMask << (j * levelPower);
                if ((i & mask) != 0) {
                    break;
                }
            }
        }
        for (; i < size; i++) {
            addRow(acc[0], x, from, (int) i, width);
        }
        for (int j = 1; j < levels; j++) {
            for (int k = 0; k < nrows; k++) {
                for (int l = 0; l < width; l++) {
                    acc[0][k][l] += acc[j][k][l];
                }
            }
        }
        return acc[0];
    }

    private static void addRow(float[][] acc0, float[] x, int from, int row, int width) {
        for (int k = 0; k < 4; k++) {
            int base = from + (row * 4 + k) * width;
            for (int l = 0; l < width; l++) {
                acc0[k][l] += x[base + l];
            }
        }
    }

    /** ATen {@code utils::CeilLog2}: 0 for x ≤ 1, else ceil(log2(x)). */
    private static int ceilLog2(long x) {
        if (x <= 2) {
            return x <= 1 ? 0 : 1;
        }
        return 64 - Long.numberOfLeadingZeros(x - 1);
    }
}
