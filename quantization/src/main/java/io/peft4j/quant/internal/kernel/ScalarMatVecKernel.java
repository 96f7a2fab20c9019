package io.peft4j.quant.internal.kernel;

/**
 * The reference matrix-vector kernel and the spec of the others: each weight row is dequantized exactly as the
 * reference codecs do ({@link QuantMatrix.Ggml#decodeRow} for GGUF blocks, ggml's {@code dequantize_row_*} formulas
 * bit for bit;
 * {@code codebook[code] * absmax[block]} for NF4 / FP4, as bitsandbytes' {@code dequantize_4bit}), then each output
 * is the fp32 sum of {@code w[k] * x[k]} in index order {@code k = 0, 1, ...}, without fused multiply-add. Its
 * result therefore equals "dequantize W, then multiply in fp32 in index order". Stateless and thread-safe.
 *
 * <pre>{@code
 * float[] y = new float[w.rows()];
 * new ScalarMatVecKernel().multiply(w, x, 1, y, 0, w.rows());
 * }</pre>
 */
public final class ScalarMatVecKernel implements MatVecKernel {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void multiply(QuantMatrix w, float[] x, int rows, float[] y, int from, int to) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int o = from; o < to; o++) {
            decodeRow(w, o, row);
            for (int r = 0; r < rows; r++) {
                float sum = 0f;
                int xo = r * cols;
                for (int k = 0; k < cols; k++) {
                    sum += row[k] * x[xo + k];
                }
                y[r * w.rows() + o] = sum;
            }
        }
    }

    /** Row {@code o} of W in fp32, as the reference dequantization gives it. */
    static void decodeRow(QuantMatrix w, int o, float[] dst) {
        if (w instanceof QuantMatrix.Ggml g) {
            g.decodeRow(o, dst, 0);
            return;
        }
        QuantMatrix.FourBit f = (QuantMatrix.FourBit) w;
        long first = (long) o * f.cols();
        for (int k = 0; k < f.cols(); k++) {
            long i = first + k;
            int b = f.packed()[(int) (i >>> 1)] & 0xFF;
            int code = (i & 1) == 0 ? b >>> 4 : b & 0x0F;
            dst[k] = f.codebook()[code] * f.absmax()[(int) (i / f.blockSize())];
        }
    }
}
