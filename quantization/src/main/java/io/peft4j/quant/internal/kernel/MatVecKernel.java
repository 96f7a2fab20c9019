package io.peft4j.quant.internal.kernel;

/**
 * One implementation of {@code y = x·Wᵀ} over a {@link QuantMatrix} for a few input rows, computed in fp32 for a
 * range of output features (so callers can split the features over threads). Implementations are stateless and
 * thread-safe; {@link ScalarMatVecKernel} is the spec every other one is tested against.
 *
 * <pre>{@code
 * MatVecKernel k = new ScalarMatVecKernel();
 * float[] y = new float[rows * w.rows()];
 * k.multiply(w, x, rows, y, 0, w.rows());
 * }</pre>
 */
public interface MatVecKernel {

    /** A short name for logs and bench output, e.g. {@code scalar} or {@code vector-512}. */
    String name();

    /**
     * For every input row {@code r < rows} and output feature {@code o} in {@code [from, to)}:
     * {@code y[r * w.rows() + o] = Σ_k x[r * w.cols() + k] · W[o, k]}. Other entries of {@code y} are untouched.
     *
     * @param x {@code [rows, w.cols()]} row-major
     * @param y {@code [rows, w.rows()]} row-major
     */
    void multiply(QuantMatrix w, float[] x, int rows, float[] y, int from, int to);

    /**
     * Rows {@code [from, to)} of W in fp32 into {@code dst[0 .. (to - from) * w.cols())}, row-major, with the values
     * of {@link ScalarMatVecKernel}'s reference decoding (a zero may differ in sign).
     */
    default void decodeRows(QuantMatrix w, int from, int to, float[] dst) {
        float[] row = new float[w.cols()];
        for (int o = from; o < to; o++) {
            ScalarMatVecKernel.decodeRow(w, o, row);
            System.arraycopy(row, 0, dst, (o - from) * w.cols(), w.cols());
        }
    }
}
