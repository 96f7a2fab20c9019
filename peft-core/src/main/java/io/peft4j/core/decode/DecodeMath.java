package io.peft4j.core.decode;

import io.peft4j.core.model.block.AttentionLayout;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The inner loops of the fused decode step on Java arrays and native buffers read in place (little-endian fp32,
 * indices in floats): attention's scores of a kv head's query group, its softmax and the probability-weighted sum of
 * the values ({@code GroupedQueryAttention.attendRows}), and the dot product of the LoRA row kernel.
 * {@link #INSTANCE} is the SIMD version when the {@code jdk.incubator.vector} module is in the boot layer, else scalar
 * loops; the choice is logged once at INFO. Stateless and thread-safe.
 *
 * <pre>{@code
 * DecodeMath math = DecodeMath.INSTANCE;                    // "vector-512", "vector-256" or "scalar"
 * float t = math.dot(loraA, k * in, x, row * in, in);      // A row k (a native fp32 buffer) · x row
 * }</pre>
 *
 * @since 0.1.0
 */
public abstract class DecodeMath {
    /** The loops in use in this JVM. */
    public static final DecodeMath INSTANCE = choose();

    /**
     * Scores of {@code groups} queries {@code q[qo + g·d ..]} against keys {@code j < n} at {@code first + j·d} of
     * {@code keys}: {@code p[g·n + j] = q_g·k_j}, plus {@link AttentionLayout#MASKED} where {@code !visible[j]}.
     */
    public abstract void scores(float[] q, int qo, int groups, ByteBuffer keys, int first, int n, int d,
                                boolean[] visible, float[] p);

    /** {@code out[oo + g·d + i] = Σ_j p[g·n + j]·v_j[i]} for values {@code j < n} at {@code first + j·d}. */
    public abstract void weightedSum(float[] p, int groups, ByteBuffer values, int first, int n, int d, float[] out,
                                     int oo);

    /** In place over {@code p[from, from + n)}: {@code exp(p - max) / Σ exp(p - max)}. */
    public void softmax(float[] p, int from, int n) {
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

    /** {@code Σ w[wo + i]·v[vo + i]} for {@code i < n}. */
    public abstract float dot(ByteBuffer w, int wo, float[] v, int vo, int n);

    /** {@code scalar} or {@code vector-<bits>}. */
    public abstract String name();

    private static DecodeMath choose() {
        DecodeMath chosen = new Scalar();
        String why = "module jdk.incubator.vector not in the boot layer";
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                chosen = new VectorDecodeMath();
                why = "jdk.incubator.vector present";
            } catch (LinkageError e) {
                why = "the Vector API failed to load: " + e;
            }
        }
        LoggerFactory.getLogger(DecodeMath.class).info("decode loops (attention, LoRA rows): {} ({})", chosen.name(),
                why);
        return chosen;
    }

    /** Plain loops. */
    public static final class Scalar extends DecodeMath {
        @Override
        public void scores(float[] q, int qo, int groups, ByteBuffer keys, int first, int n, int d, boolean[] visible,
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
        public void weightedSum(float[] p, int groups, ByteBuffer values, int first, int n, int d, float[] out,
                                int oo) {
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
        public float dot(ByteBuffer w, int wo, float[] v, int vo, int n) {
            float s0 = 0;
            float s1 = 0;
            int i = 0;
            for (; i + 2 <= n; i += 2) {
                s0 += w.getFloat((wo + i) << 2) * v[vo + i];
                s1 += w.getFloat((wo + i + 1) << 2) * v[vo + i + 1];
            }
            for (; i < n; i++) {
                s0 += w.getFloat((wo + i) << 2) * v[vo + i];
            }
            return s0 + s1;
        }

        @Override
        public String name() {
            return "scalar";
        }
    }
}
