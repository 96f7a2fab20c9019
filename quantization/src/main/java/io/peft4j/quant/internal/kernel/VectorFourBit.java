package io.peft4j.quant.internal.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import static io.peft4j.quant.internal.kernel.VectorMatVecKernel.BS;
import static io.peft4j.quant.internal.kernel.VectorMatVecKernel.FS;
import static io.peft4j.quant.internal.kernel.VectorMatVecKernel.IS;
import static io.peft4j.quant.internal.kernel.VectorMatVecKernel.L;

/**
 * {@link VectorMatVecKernel}'s loops for bitsandbytes' 4-bit layout (NF4 / FP4): each code's value comes from an
 * in-register table lookup of the 16-entry codebook, times its block's absmax. Codes are packed first element in the
 * high nibble, so the input is de-interleaved once per call ({@code L} even columns, then the {@code L} odd ones)
 * instead of interleaving the decoded lanes. Stateless.
 */
final class VectorFourBit {
    private VectorFourBit() {
    }

    /** {@link MatVecKernel#multiply} for a 4-bit matrix whose columns and block size are multiples of {@code 2L}. */
    static void multiply(QuantMatrix.FourBit f, float[] x, int rows, float[] y, int from, int to) {
        int cols = f.cols();
        float[] xp = deinterleave(x, rows * cols);
        FloatVector cb0 = FloatVector.fromArray(FS, f.codebook(), 0);
        FloatVector cb1 = L == 16 ? cb0 : FloatVector.fromArray(FS, f.codebook(), 8);
        float[] row = rows == 1 ? null : new float[cols];
        for (int o = from; o < to; o++) {
            if (rows == 1) {
                y[o] = dotFourBit(f, o, xp, cb0, cb1);
                continue;
            }
            decodeFourBit(f, o, row, cb0, cb1);
            for (int r = 0; r < rows; r++) {
                y[r * f.rows() + o] = VectorMatVecKernel.dot(row, xp, r * cols, cols);
            }
        }
    }

    /** Row {@code o} in de-interleaved order (per {@code 2L} columns: the even ones, then the odd ones) · xp. */
    private static float dotFourBit(QuantMatrix.FourBit f, int o, float[] xp, FloatVector cb0, FloatVector cb1) {
        int first = o * f.cols();
        FloatVector accHi = FloatVector.zero(FS);
        FloatVector accLo = FloatVector.zero(FS);
        for (int c = 0; c < f.cols(); c += 2 * L) {
            int i = first + c;
            FloatVector am = FloatVector.broadcast(FS, f.absmax()[i / f.blockSize()]);
            ByteVector q = ByteVector.fromArray(BS, f.packed(), i >>> 1);
            FloatVector hi = lookup(q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F), cb0, cb1).mul(am);
            FloatVector lo = lookup(q.and((byte) 0x0F), cb0, cb1).mul(am);
            accHi = hi.fma(FloatVector.fromArray(FS, xp, c), accHi);
            accLo = lo.fma(FloatVector.fromArray(FS, xp, c + L), accLo);
        }
        return accHi.add(accLo).reduceLanes(VectorOperators.ADD);
    }

    private static void decodeFourBit(QuantMatrix.FourBit f, int o, float[] row, FloatVector cb0, FloatVector cb1) {
        int first = o * f.cols();
        for (int c = 0; c < f.cols(); c += 2 * L) {
            int i = first + c;
            FloatVector am = FloatVector.broadcast(FS, f.absmax()[i / f.blockSize()]);
            ByteVector q = ByteVector.fromArray(BS, f.packed(), i >>> 1);
            lookup(q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F), cb0, cb1).mul(am).intoArray(row, c);
            lookup(q.and((byte) 0x0F), cb0, cb1).mul(am).intoArray(row, c + L);
        }
    }

    /** {@code codebook[code]} per lane: a permute of the 16-entry table held in one (or two) registers. */
    private static FloatVector lookup(ByteVector codes, FloatVector cb0, FloatVector cb1) {
        VectorShuffle<Float> s = ((IntVector) codes.convertShape(VectorOperators.B2I, IS, 0)).toShuffle().cast(FS);
        return L == 16 ? cb0.rearrange(s) : cb0.rearrange(s, cb1);
    }

    /** Per {@code 2L} values: the {@code L} even-indexed ones, then the {@code L} odd-indexed ones. */
    private static float[] deinterleave(float[] x, int n) {
        float[] out = new float[n];
        for (int c = 0; c < n; c += 2 * L) {
            for (int t = 0; t < L; t++) {
                out[c + t] = x[c + 2 * t];
                out[c + L + t] = x[c + 2 * t + 1];
            }
        }
        return out;
    }
}
