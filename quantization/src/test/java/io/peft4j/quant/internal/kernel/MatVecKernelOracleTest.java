package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlKernels;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedTensor;
import io.peft4j.quant.Quantizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oracle tests of the decode kernels: the scalar kernel equals "dequantize with the reference codec, then
 * multiply in fp32 in index order" bit for bit; the Vector API kernel equals the scalar kernel within fp32
 * reordering error, {@code |Δ| ≤ TOL · Σ_k |w_k·x_k|} with {@code TOL = 1e-5}, on random blocks including tails
 * (odd output counts, several input rows, 4-bit shapes that fall back to the scalar path).
 */
class MatVecKernelOracleTest {
    /** Bound on |vector - scalar| relative to Σ|w·x|: fp32 sums of ≤ 4096 terms in another order, with FMA. */
    private static final double TOL = 1e-5;
    private static final int[] ROWS = {1, 2, 3, 5, 8, 16};

    private final MatVecKernel scalar = new ScalarMatVecKernel();

    @Test
    void vectorKernel_chosenWhenModuleAdded() {
        assertTrue(MatVec.describe().startsWith("vector-"), MatVec.describe());
    }

    @Test
    void vectorKernel_ggmlBlocks_matchesScalarWithinTolerance() {
        Random rng = new Random(1);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0}) {
            for (int[] shape : new int[][] {{1, 32}, {7, 64}, {37, 96}, {64, 576}, {5, 1536}}) {
                for (int rows : ROWS) {
                    QuantMatrix w = RandomMatrices.ggml(type, shape[0], shape[1], rng);
                    assertClose(w, RandomMatrices.input(rows * shape[1], rng), rows, type + " " + Arrays.toString(shape));
                }
            }
        }
    }

    @Test
    void vectorKernel_fourBit_matchesScalarWithinTolerance() {
        Random rng = new Random(2);
        for (QuantType type : new QuantType[] {QuantType.NF4, QuantType.FP4}) {
            // {rows, cols, blockSize}: 48 and 80 columns are not a multiple of 32 -> scalar tail path
            for (int[] s : new int[][] {{1, 32, 32}, {9, 64, 64}, {33, 576, 64}, {4, 1536, 256}, {5, 48, 32},
                    {3, 80, 64}}) {
                for (int rows : ROWS) {
                    QuantMatrix w = RandomMatrices.fourBit(type, s[0], s[1], s[2], rng);
                    assertClose(w, RandomMatrices.input(rows * s[1], rng), rows, type + " " + Arrays.toString(s));
                }
            }
        }
    }

    /** The SIMD row decoding (prefill's dequantization) gives the reference values; MatVec.dequantize splits it. */
    @Test
    void vectorDecodeRows_ggml_equalReferenceValues() {
        Random rng = new Random(6);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0}) {
            byte[] blocks = RandomMatrices.ggmlBlocks(type, 301, 576, rng);
            QuantMatrix.Ggml w = new QuantMatrix.Ggml(type, 301, 576, blocks);
            float[] want = new float[301 * 576];
            GgmlKernels.dequantize(type, blocks, 0, want, 0, want.length / 32);
            float[] got = new float[(250 - 7) * 576];
            new VectorMatVecKernel().decodeRows(w, 7, 250, got);
            for (int i = 0; i < got.length; i++) {
                float ref = want[7 * 576 + i];
                assertTrue(got[i] == ref, type + " element " + i + ": " + got[i] + " vs " + ref);
            }
            FloatBuffer all = ByteBuffer.allocateDirect(4 * want.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
            MatVec.dequantize(w, all);
            for (int i = 0; i < want.length; i++) {
                assertTrue(all.get(i) == want[i], type + " (MatVec.dequantize) element " + i);
            }
        }
    }

    @Test
    void scalarKernel_ggml_equalsDequantizeThenMatmul() {
        Random rng = new Random(3);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0}) {
            byte[] blocks = RandomMatrices.ggmlBlocks(type, 11, 96, rng);
            QuantMatrix.Ggml w = new QuantMatrix.Ggml(type, 11, 96, blocks);
            float[] dense = new float[11 * 96];
            GgmlKernels.dequantize(type, blocks, 0, dense, 0, dense.length / 32);
            float[] x = RandomMatrices.input(3 * 96, rng);
            assertArrayEquals(matmul(dense, x, 3, 11, 96), run(scalar, w, x, 3), type.toString());
        }
    }

    @Test
    void scalarKernel_fourBitDoubleQuant_equalsDequantizeThenMatmul() {
        Random rng = new Random(4);
        for (QuantConfig config : new QuantConfig[] {QuantConfig.nf4DoubleQuant(), QuantConfig.of(QuantType.FP4)}) {
            float[] values = RandomMatrices.input(13 * 192, rng);
            QuantizedTensor q = Quantizer.quantize("w", values, new long[] {13, 192}, config);
            QuantMatrix w = new QuantMatrix.FourBit(13, 192, q.config().type().codebook(), q.config().blockSize(),
                    q.data(), q.absmax().decode());
            float[] x = RandomMatrices.input(2 * 192, rng);
            assertArrayEquals(matmul(Quantizer.dequantize(q), x, 2, 13, 192), run(scalar, w, x, 2),
                    config.toString());
        }
    }

    @Test
    void multiply_outputRange_leavesOtherEntriesAndSplitsExactly() {
        Random rng = new Random(5);
        QuantMatrix w = RandomMatrices.ggml(GgmlType.Q4_1, 2048, 576, rng);
        float[] x = RandomMatrices.input(2 * 576, rng);
        float[] y = new float[2 * 2048];
        Arrays.fill(y, -7f);
        new VectorMatVecKernel().multiply(w, x, 2, y, 100, 200);
        assertEquals(-7f, y[99]);
        assertEquals(-7f, y[2048 + 200]);
        float[] whole = run(new VectorMatVecKernel(), w, x, 2);
        float[] pooled = new float[whole.length];
        MatVec.multiply(new VectorMatVecKernel(), w, x, 2, pooled);
        assertArrayEquals(whole, pooled); // the split over threads does not change any output's arithmetic
        assertEquals(whole[150], y[150]);
    }

    private void assertClose(QuantMatrix w, float[] x, int rows, String what) {
        float[] want = run(scalar, w, x, rows);
        float[] got = run(new VectorMatVecKernel(), w, x, rows);
        float[] bound = RandomMatrices.absSums(w, x, rows);
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(got[i] - want[i]);
            assertTrue(err <= TOL * bound[i] + 1e-30, what + " rows=" + rows + " out " + i + ": " + got[i] + " vs "
                    + want[i] + " (|Δ| " + err + " > " + TOL + " · " + bound[i] + ")");
        }
    }

    private static float[] run(MatVecKernel k, QuantMatrix w, float[] x, int rows) {
        float[] y = new float[rows * w.rows()];
        k.multiply(w, x, rows, y, 0, w.rows());
        return y;
    }

    /** {@code x [rows, in] · Wᵀ} with W {@code [out, in]}: fp32, index order, no FMA. */
    private static float[] matmul(float[] w, float[] x, int rows, int out, int in) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                for (int k = 0; k < in; k++) {
                    s += w[o * in + k] * x[r * in + k];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }
}
