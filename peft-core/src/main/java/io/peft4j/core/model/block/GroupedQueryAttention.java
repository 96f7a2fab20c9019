package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.decode.DecodeMath;
import io.peft4j.core.decode.SpinningWorkers;

import java.util.function.IntConsumer;

/**
 * Scaled dot-product attention with grouped-query heads (GQA, arXiv 2305.13245), eager as transformers'
 * {@code eager_attention_forward} computes it, but without repeating keys: the queries of one kv head are stacked
 * along the sequence axis, so keys and values are read once per kv head.
 * <pre>{@code
 * NDArray ctx = GroupedQueryAttention.attend(q, new KeyValues(k, v), bias);  // q [B,T,H,D] -> [B,T,H*D]
 * }</pre>
 * DJL binds no fused SDPA, so this is matMul, add bias, softmax, matMul. Stateless and thread-safe.
 *
 * @since 0.1.0
 */
public final class GroupedQueryAttention {
    /** Per-thread score rows of {@link #attendRows}, grown as the context grows, so a decode step allocates none. */
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[0]);
    /** Below this many multiply-adds {@link #attendRows} runs on the calling thread alone. */
    private static final long PARALLEL_MIN = 1L << 15;

    private GroupedQueryAttention() {
    }

    /**
     * @param queries {@code [B, T, heads, D]}, rotated and already carrying the 1/√D scale
     * @param kv      keys and values {@code [B, kvHeads, keys, D]} (cached positions first); heads % kvHeads == 0
     * @param bias    additive mask broadcastable to {@code [B, kvHeads, groups, T, keys]}, or {@code null}
     * @return the attention context {@code [B, T, heads * D]}
     */
    public static NDArray attend(NDArray queries, KeyValues kv, NDArray bias) {
        long b = queries.getShape().get(0);
        long t = queries.getShape().get(1);
        long heads = queries.getShape().get(2);
        long headDim = queries.getShape().get(3);
        long kvHeads = kv.keys().getShape().get(1);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " not a multiple of kv heads " + kvHeads);
        }
        long groups = heads / kvHeads;
        // queries of one kv head stacked: [B, kvHeads, groups * T, D]
        NDArray qg = queries.reshape(b, t, kvHeads, groups, headDim).transpose(0, 2, 3, 1, 4)
                .reshape(b, kvHeads, groups * t, headDim);
        long keys = kv.keys().getShape().get(2);
        NDArray scores = qg.matMul(kv.keys().transpose(0, 1, 3, 2)).reshape(b, kvHeads, groups, t, keys);
        if (bias != null) {
            scores = scores.add(bias);
        }
        NDArray probs = scores.softmax(-1).reshape(b, kvHeads, groups * t, keys);
        NDArray ctx = probs.matMul(kv.values());   // [B, kvHeads, groups * T, D]
        return ctx.reshape(b, kvHeads, groups, t, headDim).transpose(0, 3, 1, 2, 4).reshape(b, t, heads * headDim);
    }

    /**
     * The same attention on Java arrays for one new query per row (a decode step), reading keys and values in place
     * from cache buffers: {@code queries [rows, heads·D]} (rotated, carrying the 1/√D scale) into
     * {@code context [rows, heads·D]}. Key {@code j} of row {@code r} is visible when {@code keyMask[r][j]}; masked
     * keys get {@link AttentionLayout#MASKED} added to their score, as {@link #attend} does with its bias.
     */
    public static void attendRows(float[] queries, int rows, int heads, CachedKeyValues kv, boolean[][] keyMask,
                                  float[] context) {
        attendRows(queries, rows, heads, kv, keyMask, context, DecodeMath.INSTANCE);
    }

    /**
     * {@link #attendRows(float[], int, int, CachedKeyValues, boolean[][], float[])} with the given loops: one task per
     * (row, kv head), spread over the decode workers when the step is big enough.
     */
    static void attendRows(float[] queries, int rows, int heads, CachedKeyValues kv, boolean[][] keyMask,
                           float[] context, DecodeMath math) {
        int d = kv.headDim();
        int kvHeads = kv.kvHeads();
        int groups = heads / kvHeads;
        int n = kv.length();
        IntConsumer pair = i -> {
            int r = i / kvHeads;
            int h = i % kvHeads;
            int first = kv.offset(r, h, 0);
            int q = (r * heads + h * groups) * d;
            float[] p = scores(groups * n);
            math.scores(queries, q, groups, kv.keys(), first, n, d, keyMask[r], p);
            for (int g = 0; g < groups; g++) {
                math.softmax(p, g * n, n);
            }
            math.weightedSum(p, groups, kv.values(), first, n, d, context, q);
        };
        int pairs = rows * kvHeads;
        if ((long) pairs * groups * n * d < PARALLEL_MIN) {
            for (int i = 0; i < pairs; i++) {
                pair.accept(i);
            }
        } else {
            SpinningWorkers.shared().run(pairs, pair);
        }
    }

    private static float[] scores(int n) {
        float[] p = SCORES.get();
        if (p.length < n) {
            p = new float[Math.max(n, 2 * p.length)];
            SCORES.set(p);
        }
        return p;
    }
}
