package io.peft4j.core.model.block;

import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The two inner loops of {@link GroupedQueryAttention#attendRows}, on Java queries and a cache buffer read in place
 * (little-endian fp32, indices in floats): the scores of a kv head's query group and the probability-weighted sum of
 * its values. {@link #INSTANCE} is the SIMD version when
 * the {@code jdk.incubator.vector} module is in the boot layer, else scalar loops; the choice is logged once at INFO.
 */
abstract class AttentionMath {
    static final AttentionMath INSTANCE = choose();

    /**
     * Scores of {@code groups} queries {@code q[qo + g·d ..]} against keys {@code j < n} at {@code first + j·d} of
     * {@code keys}: {@code p[g·n + j] = q_g·k_j}, plus {@link AttentionLayout#MASKED} where {@code !visible[j]}.
     */
    abstract void scores(float[] q, int qo, int groups, ByteBuffer keys, int first, int n, int d, boolean[] visible,
                         float[] p);

    /** {@code out[oo + g·d + i] = Σ_j p[g·n + j]·v_j[i]} for values {@code j < n} at {@code first + j·d}. */
    abstract void weightedSum(float[] p, int groups, ByteBuffer values, int first, int n, int d, float[] out, int oo);

    /** In place over {@code p[from, from + n)}: {@code exp(p - max) / Σ exp(p - max)}. */
    void softmax(float[] p, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = from; j < from + n; j++) {
            max = Math.max(max, p[j]);
        }
        float sum = 0;
        for (int j = from; j < from + n; j++) {
            p[j] = (float) Math.exp(p[j] - max);
            sum += p[j];
        }
        for (int j = from; j < from + n; j++) {
            p[j] /= sum;
        }
    }

    abstract String name();

    private static AttentionMath choose() {
        AttentionMath chosen = new Scalar();
        String why = "module jdk.incubator.vector not in the boot layer";
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                chosen = new VectorAttentionMath();
                why = "jdk.incubator.vector present";
            } catch (LinkageError e) {
                why = "the Vector API failed to load: " + e;
            }
        }
        LoggerFactory.getLogger(AttentionMath.class).info("decode attention loops: {} ({})", chosen.name(), why);
        return chosen;
    }

    /** Plain loops. */
    static final class Scalar extends AttentionMath {
        @Override
        void scores(float[] q, int qo, int groups, ByteBuffer keys, int first, int n, int d, boolean[] visible,
                    float[] p) {
            for (int j = 0; j < n; j++) {
                int k = first + j * d;
                float bias = visible[j] ? 0f : AttentionLayout.MASKED;
                for (int g = 0; g < groups; g++) {
                    float s = 0;
                    for (int i = 0; i < d; i++) {
                        s += q[qo + g * d + i] * keys.getFloat((k + i) << 2);
                    }
                    p[g * n + j] = s + bias;
                }
            }
        }

        @Override
        void weightedSum(float[] p, int groups, ByteBuffer values, int first, int n, int d, float[] out, int oo) {
            Arrays.fill(out, oo, oo + groups * d, 0f);
            for (int j = 0; j < n; j++) {
                int v = first + j * d;
                for (int g = 0; g < groups; g++) {
                    float w = p[g * n + j];
                    for (int i = 0; i < d; i++) {
                        out[oo + g * d + i] += w * values.getFloat((v + i) << 2);
                    }
                }
            }
        }

        @Override
        String name() {
            return "scalar";
        }
    }
}
