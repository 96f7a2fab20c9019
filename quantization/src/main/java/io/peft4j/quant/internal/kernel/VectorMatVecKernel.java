package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Optional;

/**
 * The matrix-vector kernel on the JDK's Vector API ({@code jdk.incubator.vector}, Java 17 with
 * {@code --add-modules jdk.incubator.vector}) at the CPU's preferred float width ({@code L} = 8 or 16 lanes).
 * Each weight value is dequantized exactly as {@link ScalarMatVecKernel} does it (for GGUF blocks {@code q·d} is
 * exact in fp32, so {@code fma(q, d, m)} rounds once like {@code q·d + m}; for 4-bit, the codebook value comes
 * from an in-register table lookup times the block's absmax); only the summation differs: {@code L}-lane partial
 * sums with fused multiply-add, reduced at the end, and at 512 bits a single GGUF row is summed as
 * {@code d·Σq·x + offset·Σx} per block. Results therefore match the scalar kernel within fp32 reordering error
 * (tested: {@code |Δ| ≤ 1e-5 · Σ|w·x|}).
 *
 * <p>GGUF block scales come from {@link QuantMatrix.Ggml#scales()} (widened to fp32 once, at load) rather than from
 * the halves in the blocks: widening two halves per 32 weights was scalar work in the SIMD loop, and reading the
 * floats took single-stream decode on SmolLM2 Q4_1 from 83 to 93 tok/s (bench decode, 5 alternating rounds).
 *
 * <p>One input row: one pass per weight row. Several GGUF rows at 512 bits: each block is widened once and fed to four
 * input rows' accumulators; at 256 bits each weight row is dequantized into a scratch row and dotted with every input
 * row. NF4 / FP4 matrices go through {@link VectorFourBit}, or the scalar kernel when their columns or block size are
 * not a multiple of {@code 2L}. Stateless and thread-safe.
 *
 * <pre>{@code
 * MatVecKernel k = new VectorMatVecKernel();   // only when VectorMatVecKernel.unsupported() is empty
 * k.multiply(w, x, 1, y, 0, w.rows());
 * }</pre>
 */
public final class VectorMatVecKernel implements MatVecKernel {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    static final VectorSpecies<Byte> BS = L == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    static final VectorSpecies<Integer> IS = L == 16 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;

    private final ScalarMatVecKernel scalar = new ScalarMatVecKernel();

    /** Why this kernel cannot run on this CPU / JVM, or empty when it can. */
    public static Optional<String> unsupported() {
        if (L != 8 && L != 16) {
            return Optional.of("the preferred vector width is " + FS.vectorBitSize() + " bits; the kernel needs 256 "
                    + "or 512");
        }
        return Optional.empty();
    }

    @Override
    public String name() {
        return "vector-" + FS.vectorBitSize();
    }

    @Override
    public void multiply(QuantMatrix w, float[] x, int rows, float[] y, int from, int to) {
        if (w instanceof QuantMatrix.Ggml g) {
            ggml(g, x, rows, y, from, to);
            return;
        }
        QuantMatrix.FourBit f = (QuantMatrix.FourBit) w;
        if (f.cols() % (2 * L) != 0 || f.blockSize() % (2 * L) != 0) {
            scalar.multiply(w, x, rows, y, from, to);
        } else {
            VectorFourBit.multiply(f, x, rows, y, from, to);
        }
    }

    /** GGUF rows decoded with the SIMD loops ({@code fma(q, d, offset)} from the fp32 block scales); 4-bit: scalar. */
    @Override
    public void decodeRows(QuantMatrix w, int from, int to, float[] dst) {
        if (!(w instanceof QuantMatrix.Ggml g)) {
            MatVecKernel.super.decodeRows(w, from, to, dst);
            return;
        }
        for (int o = from; o < to; o++) {
            if (g.type() == GgmlType.Q8_0) {
                decodeQ8(g, o, dst, (o - from) * g.cols());
            } else {
                decodeQ4(g, o, dst, (o - from) * g.cols());
            }
        }
    }

    private static void ggml(QuantMatrix.Ggml g, float[] x, int rows, float[] y, int from, int to) {
        int cols = g.cols();
        boolean q8 = g.type() == GgmlType.Q8_0;
        if (rows == 1) {
            float[] sums = !q8 && L == 16 ? blockSums(x, cols) : null;
            for (int o = from; o < to; o++) {
                y[o] = q8 ? dotQ8(g, o, x) : sums != null ? dotQ4(g, o, x, sums) : dotQ4(g, o, x);
            }
            return;
        }
        if (L == 16) {
            for (int r0 = 0; r0 < rows; r0 += 4) {
                blocked(g, x, rows, r0, Math.min(4, rows - r0), y, from, to);
            }
            return;
        }
        float[] row = new float[cols];
        for (int o = from; o < to; o++) {
            if (q8) {
                decodeQ8(g, o, row, 0);
            } else {
                decodeQ4(g, o, row, 0);
            }
            for (int r = 0; r < rows; r++) {
                y[r * g.rows() + o] = dot(row, x, r * cols, cols);
            }
        }
    }

    /**
     * Rows {@code r0 .. r0 + count - 1} ({@code count <= 4}) of {@code x} times W's rows {@code [from, to)}, 512-bit
     * lanes: each block is widened once and multiplied into the four rows' accumulators (eight independent FMA chains,
     * so the FMA latency is hidden). Missing rows repeat the last one and are not stored.
     */
    private static void blocked(QuantMatrix.Ggml g, float[] x, int rows, int r0, int count, float[] y, int from,
                                int to) {
        byte[] codes = g.codes();
        int cols = g.cols();
        GgmlType type = g.type();
        int cb = g.codeBytes();
        int per = g.scalesPerBlock();
        int x0 = r0 * cols;
        int x1 = (r0 + Math.min(1, count - 1)) * cols;
        int x2 = (r0 + Math.min(2, count - 1)) * cols;
        int x3 = (r0 + Math.min(3, count - 1)) * cols;
        float[] sc = g.scales();
        for (int o = from; o < to; o++) {
            int p = g.codeStart(o);
            int s = g.scaleStart(o);
            FloatVector a0 = FloatVector.zero(FS);
            FloatVector a1 = FloatVector.zero(FS);
            FloatVector a2 = FloatVector.zero(FS);
            FloatVector a3 = FloatVector.zero(FS);
            FloatVector b0 = FloatVector.zero(FS);
            FloatVector b1 = FloatVector.zero(FS);
            FloatVector b2 = FloatVector.zero(FS);
            FloatVector b3 = FloatVector.zero(FS);
            for (int xo = 0; xo < cols; xo += 32, p += cb, s += per) {
                FloatVector lo;
                FloatVector hi;
                FloatVector dv = FloatVector.broadcast(FS, sc[s]);
                if (type == GgmlType.Q8_0) {
                    lo = int8s(codes, p).mul(dv);
                    hi = int8s(codes, p + 16).mul(dv);
                } else {
                    FloatVector mv = FloatVector.broadcast(FS, g.offset(s));
                    IntVector q = nibblePairs(codes, p);
                    lo = lowNibbles(q).fma(dv, mv);
                    hi = highNibbles(q).fma(dv, mv);
                }
                a0 = lo.fma(FloatVector.fromArray(FS, x, x0 + xo), a0);
                b0 = hi.fma(FloatVector.fromArray(FS, x, x0 + xo + 16), b0);
                a1 = lo.fma(FloatVector.fromArray(FS, x, x1 + xo), a1);
                b1 = hi.fma(FloatVector.fromArray(FS, x, x1 + xo + 16), b1);
                a2 = lo.fma(FloatVector.fromArray(FS, x, x2 + xo), a2);
                b2 = hi.fma(FloatVector.fromArray(FS, x, x2 + xo + 16), b2);
                a3 = lo.fma(FloatVector.fromArray(FS, x, x3 + xo), a3);
                b3 = hi.fma(FloatVector.fromArray(FS, x, x3 + xo + 16), b3);
            }
            int n = g.rows();
            y[r0 * n + o] = a0.add(b0).reduceLanes(VectorOperators.ADD);
            if (count > 1) {
                y[(r0 + 1) * n + o] = a1.add(b1).reduceLanes(VectorOperators.ADD);
            }
            if (count > 2) {
                y[(r0 + 2) * n + o] = a2.add(b2).reduceLanes(VectorOperators.ADD);
            }
            if (count > 3) {
                y[(r0 + 3) * n + o] = a3.add(b3).reduceLanes(VectorOperators.ADD);
            }
        }
    }

    /**
     * A Q4 row {@code o} dotted with {@code x} at 512 bits as {@code d·Σ q·x + offset·Σ x} per block, with
     * {@code sums[b]} the sum of {@code x}'s block {@code b} ({@link #blockSums}, once per call): per 32 weights two
     * int-to-float conversions and three vector multiply-adds instead of four, since widening is what bounds this loop.
     * The regrouping is within the fp32 tolerance the oracle test holds every kernel to.
     */
    private static float dotQ4(QuantMatrix.Ggml g, int o, float[] x, float[] sums) {
        byte[] codes = g.codes();
        int per = g.scalesPerBlock();
        int p = g.codeStart(o);
        float[] sc = g.scales();
        int s = g.scaleStart(o);
        FloatVector acc = FloatVector.zero(FS);
        float offsets = 0f;
        for (int xo = 0, b = 0; xo < g.cols(); xo += 32, p += 16, s += per, b++) {
            IntVector q = nibblePairs(codes, p);
            FloatVector t = lowNibbles(q).mul(FloatVector.fromArray(FS, x, xo));
            t = highNibbles(q).fma(FloatVector.fromArray(FS, x, xo + 16), t);
            acc = t.fma(FloatVector.broadcast(FS, sc[s]), acc);
            offsets = Math.fma(g.offset(s), sums[b], offsets);
        }
        return acc.reduceLanes(VectorOperators.ADD) + offsets;
    }

    /** {@code Σ x[32b .. 32b + 31]} for every block {@code b} of one input row. */
    private static float[] blockSums(float[] x, int cols) {
        float[] sums = new float[cols / 32];
        for (int b = 0; b < sums.length; b++) {
            sums[b] = FloatVector.fromArray(FS, x, 32 * b).add(FloatVector.fromArray(FS, x, 32 * b + 16))
                    .reduceLanes(VectorOperators.ADD);
        }
        return sums;
    }

    /** Q4_0 ({@code (q - 8)·d = fma(q, d, -8d)}) or Q4_1 ({@code q·d + m}) row {@code o} dotted with {@code x}. */
    private static float dotQ4(QuantMatrix.Ggml g, int o, float[] x) {
        byte[] codes = g.codes();
        int per = g.scalesPerBlock();
        int p = g.codeStart(o);
        float[] sc = g.scales();
        int s = g.scaleStart(o);
        FloatVector accLo = FloatVector.zero(FS);
        FloatVector accHi = FloatVector.zero(FS);
        for (int xo = 0; xo < g.cols(); xo += 32, p += 16, s += per) {
            FloatVector dv = FloatVector.broadcast(FS, sc[s]);
            FloatVector mv = FloatVector.broadcast(FS, g.offset(s));
            for (int j = 0; j < 16; j += L) {
                IntVector q = nibblePairs(codes, p + j);
                FloatVector lo = lowNibbles(q);
                FloatVector hi = highNibbles(q);
                accLo = lo.fma(dv, mv).fma(FloatVector.fromArray(FS, x, xo + j), accLo);
                accHi = hi.fma(dv, mv).fma(FloatVector.fromArray(FS, x, xo + 16 + j), accHi);
            }
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@code L} packed bytes of a Q4 block widened to int lanes (sign-extended; the nibbles are then masked out in
     * int lanes). x86 has no byte shift, so shifting and masking bytes costs a widen-shift-narrow per vector; in int
     * lanes they are single instructions. With the 512-bit body written out (no 1-trip loop) the Q4_1 projections of
     * SmolLM2 take 16 % less CPU per token (11.8 against 14.0 ms, medians of 21 interleaved rounds;
     * docs/djl-notes.md), with the same values and the same sums.
     */
    private static IntVector nibblePairs(byte[] codes, int offset) {
        return (IntVector) ByteVector.fromArray(BS, codes, offset).convertShape(VectorOperators.B2I, IS, 0);
    }

    /** The low nibbles of {@link #nibblePairs} (a Q4 block's elements {@code j < 16}) as floats. */
    private static FloatVector lowNibbles(IntVector q) {
        return (FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0);
    }

    /** The high nibbles of {@link #nibblePairs} (a Q4 block's elements {@code j + 16}) as floats. */
    private static FloatVector highNibbles(IntVector q) {
        return (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0x0F).convert(VectorOperators.I2F, 0);
    }

    /** {@code L} signed bytes (Q8_0 values) at {@code codes[offset]} as floats. */
    private static FloatVector int8s(byte[] codes, int offset) {
        return (FloatVector) ByteVector.fromArray(BS, codes, offset).convertShape(VectorOperators.B2F, FS, 0);
    }

    private static void decodeQ4(QuantMatrix.Ggml g, int o, float[] row, int off) {
        byte[] codes = g.codes();
        int per = g.scalesPerBlock();
        int p = g.codeStart(o);
        float[] sc = g.scales();
        int s = g.scaleStart(o);
        for (int xo = 0; xo < g.cols(); xo += 32, p += 16, s += per) {
            FloatVector dv = FloatVector.broadcast(FS, sc[s]);
            FloatVector mv = FloatVector.broadcast(FS, g.offset(s));
            for (int j = 0; j < 16; j += L) {
                IntVector q = nibblePairs(codes, p + j);
                lowNibbles(q).fma(dv, mv).intoArray(row, off + xo + j);
                highNibbles(q).fma(dv, mv).intoArray(row, off + xo + 16 + j);
            }
        }
    }

    /** Q8_0 row {@code o} ({@code q·d}, exact) dotted with {@code x}. */
    private static float dotQ8(QuantMatrix.Ggml g, int o, float[] x) {
        byte[] codes = g.codes();
        int p = g.codeStart(o);
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        float[] sc = g.scales();
        int s = g.scaleStart(o);
        for (int xo = 0; xo < g.cols(); xo += 32, p += 32, s++) {
            FloatVector dv = FloatVector.broadcast(FS, sc[s]);
            if (L == 16) {
                // d·Σ q·x: the block's codes times x, then one multiply-add by the scale (5 vector float ops per
                // block instead of 6: no q·d product per half)
                FloatVector t = int8s(codes, p).mul(FloatVector.fromArray(FS, x, xo));
                t = int8s(codes, p + 16).fma(FloatVector.fromArray(FS, x, xo + 16), t);
                acc0 = t.fma(dv, acc0);
                continue;
            }
            for (int j = 0; j < 32; j += 2 * L) {
                FloatVector q0 = int8s(codes, p + j);
                FloatVector q1 = int8s(codes, p + j + L);
                acc0 = q0.mul(dv).fma(FloatVector.fromArray(FS, x, xo + j), acc0);
                acc1 = q1.mul(dv).fma(FloatVector.fromArray(FS, x, xo + j + L), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private static void decodeQ8(QuantMatrix.Ggml g, int o, float[] row, int off) {
        byte[] codes = g.codes();
        int p = g.codeStart(o);
        float[] sc = g.scales();
        int s = g.scaleStart(o);
        for (int xo = 0; xo < g.cols(); xo += 32, p += 32, s++) {
            FloatVector dv = FloatVector.broadcast(FS, sc[s]);
            for (int j = 0; j < 32; j += L) {
                int8s(codes, p + j).mul(dv).intoArray(row, off + xo + j);
            }
        }
    }

    /** {@code Σ a[k]·b[bo + k]} for {@code k < n} ({@code n} a multiple of {@code L}). */
    static float dot(float[] a, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(FS);
        FloatVector acc1 = FloatVector.zero(FS);
        int k = 0;
        for (; k + 2 * L <= n; k += 2 * L) {
            acc0 = FloatVector.fromArray(FS, a, k).fma(FloatVector.fromArray(FS, b, bo + k), acc0);
            acc1 = FloatVector.fromArray(FS, a, k + L).fma(FloatVector.fromArray(FS, b, bo + k + L), acc1);
        }
        for (; k + L <= n; k += L) {
            acc0 = FloatVector.fromArray(FS, a, k).fma(FloatVector.fromArray(FS, b, bo + k), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) {
            sum += a[k] * b[bo + k];
        }
        return sum;
    }
}
