package io.peft4j.core.decode;

import io.peft4j.core.model.block.AttentionLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@link DecodeMath} on the preferred SIMD width, four query groups at a time so that each key and value vector is
 * loaded once for all of them; loaded only when the Vector API module is present. Head sizes that are not a multiple
 * of the vector width go through the scalar loops.
 */
final class VectorDecodeMath extends DecodeMath {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final DecodeMath scalar = new Scalar();

    @Override
    public void scores(float[] q, int qo, int groups, ByteBuffer keys, int first, int n, int d, boolean[] visible,
                float[] p) {
        if (d % L != 0) {
            scalar.scores(q, qo, groups, keys, first, n, d, visible, p);
            return;
        }
        for (int g0 = 0; g0 < groups; g0 += 4) {
            int count = Math.min(4, groups - g0);
            int q0 = qo + g0 * d;
            int q1 = q0 + (count > 1 ? d : 0);
            int q2 = q0 + (count > 2 ? 2 * d : 0);
            int q3 = q0 + (count > 3 ? 3 * d : 0);
            for (int j = 0; j < n; j++) {
                int k = (first + j * d) << 2;
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = FloatVector.zero(FS);
                FloatVector a2 = FloatVector.zero(FS);
                FloatVector a3 = FloatVector.zero(FS);
                for (int c = 0; c < d; c += L) {
                    FloatVector kv = FloatVector.fromByteBuffer(FS, keys, k + (c << 2), LE);
                    a0 = FloatVector.fromArray(FS, q, q0 + c).fma(kv, a0);
                    a1 = FloatVector.fromArray(FS, q, q1 + c).fma(kv, a1);
                    a2 = FloatVector.fromArray(FS, q, q2 + c).fma(kv, a2);
                    a3 = FloatVector.fromArray(FS, q, q3 + c).fma(kv, a3);
                }
                float bias = visible[j] ? 0f : AttentionLayout.MASKED;
                p[g0 * n + j] = a0.reduceLanes(VectorOperators.ADD) + bias;
                if (count > 1) {
                    p[(g0 + 1) * n + j] = a1.reduceLanes(VectorOperators.ADD) + bias;
                }
                if (count > 2) {
                    p[(g0 + 2) * n + j] = a2.reduceLanes(VectorOperators.ADD) + bias;
                }
                if (count > 3) {
                    p[(g0 + 3) * n + j] = a3.reduceLanes(VectorOperators.ADD) + bias;
                }
            }
        }
    }

    @Override
    public void weightedSum(float[] p, int groups, ByteBuffer values, int first, int n, int d, float[] out, int oo) {
        if (d % L != 0) {
            scalar.weightedSum(p, groups, values, first, n, d, out, oo);
            return;
        }
        for (int g0 = 0; g0 < groups; g0 += 4) {
            int count = Math.min(4, groups - g0);
            int p0 = g0 * n;
            int p1 = p0 + (count > 1 ? n : 0);
            int p2 = p0 + (count > 2 ? 2 * n : 0);
            int p3 = p0 + (count > 3 ? 3 * n : 0);
            for (int c = 0; c < d; c += L) {
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = FloatVector.zero(FS);
                FloatVector a2 = FloatVector.zero(FS);
                FloatVector a3 = FloatVector.zero(FS);
                for (int j = 0; j < n; j++) {
                    FloatVector v = FloatVector.fromByteBuffer(FS, values, (first + j * d + c) << 2, LE);
                    a0 = v.fma(FloatVector.broadcast(FS, p[p0 + j]), a0);
                    a1 = v.fma(FloatVector.broadcast(FS, p[p1 + j]), a1);
                    a2 = v.fma(FloatVector.broadcast(FS, p[p2 + j]), a2);
                    a3 = v.fma(FloatVector.broadcast(FS, p[p3 + j]), a3);
                }
                int o = oo + g0 * d + c;
                a0.intoArray(out, o);
                if (count > 1) {
                    a1.intoArray(out, o + d);
                }
                if (count > 2) {
                    a2.intoArray(out, o + 2 * d);
                }
                if (count > 3) {
                    a3.intoArray(out, o + 3 * d);
                }
            }
        }
    }

    /** The same softmax with the vector max, exp and sum (the JDK's SIMD exp, within an ulp or two of Math.exp). */
    @Override
    public void softmax(float[] p, int from, int n) {
        int end = from + n;
        int j = from;
        FloatVector mv = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        for (; j + L <= end; j += L) {
            mv = mv.max(FloatVector.fromArray(FS, p, j));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; j < end; j++) {
            max = Math.max(max, p[j]);
        }
        FloatVector maxv = FloatVector.broadcast(FS, max);
        FloatVector sv = FloatVector.zero(FS);
        for (j = from; j + L <= end; j += L) {
            FloatVector e = FloatVector.fromArray(FS, p, j).sub(maxv).lanewise(VectorOperators.EXP);
            e.intoArray(p, j);
            sv = sv.add(e);
        }
        float sum = sv.reduceLanes(VectorOperators.ADD);
        for (; j < end; j++) {
            p[j] = (float) Math.exp(p[j] - max);
            sum += p[j];
        }
        FloatVector inv = FloatVector.broadcast(FS, 1f / sum);
        for (j = from; j + L <= end; j += L) {
            FloatVector.fromArray(FS, p, j).mul(inv).intoArray(p, j);
        }
        for (; j < end; j++) {
            p[j] *= 1f / sum;
        }
    }

    @Override
    public float dot(ByteBuffer w, int wo, float[] v, int vo, int n) {
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i + L <= n; i += L) {
            acc = FloatVector.fromByteBuffer(FS, w, (wo + i) << 2, LE).fma(FloatVector.fromArray(FS, v, vo + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += w.getFloat((wo + i) << 2) * v[vo + i];
        }
        return s;
    }

    @Override
    public String name() {
        return "vector-" + FS.vectorBitSize();
    }
}
