package io.peft4j.serve.internal;

import java.util.Arrays;
import java.util.Random;

/**
 * Picks one row's next token from its logits, in the order {@code io.peft4j.core.generate.Generator} does
 * (repetition penalty, then temperature, top-k, top-p and a draw from a {@link Random} seeded per row), plus OpenAI's
 * presence and frequency penalties; greedy when the temperature is 0. So a row served with seed {@code s} draws
 * what the library's generator draws with seed {@code s}. Not thread-safe: one per row.
 */
final class RowSampler {
    private final SamplingParams params;
    private final Random rng;

    RowSampler(SamplingParams params) {
        this.params = params;
        this.rng = new Random(params.seed());
    }

    /**
     * @param seen   every token of the prompt and the output so far (repetition penalty)
     * @param counts how often each token was generated (presence / frequency penalties)
     */
    int next(float[] logits, int offset, int vocab, boolean[] seen, int[] counts) {
        float[] s = Arrays.copyOfRange(logits, offset, offset + vocab);
        if (params.repetitionPenalty() != 1.0) {
            float p = (float) params.repetitionPenalty();
            for (int t = 0; t < vocab; t++) {
                if (seen[t]) {
                    s[t] = s[t] < 0 ? s[t] * p : s[t] / p;
                }
            }
        }
        if (params.presencePenalty() != 0 || params.frequencyPenalty() != 0) {
            for (int t = 0; t < vocab; t++) {
                if (counts[t] > 0) {
                    s[t] -= (float) (params.presencePenalty() + params.frequencyPenalty() * counts[t]);
                }
            }
        }
        if (params.temperature() == 0) {
            return argmax(s);
        }
        float temperature = (float) params.temperature();
        for (int i = 0; i < vocab; i++) {
            s[i] /= temperature;
        }
        if (params.topK() > 0 && params.topK() < vocab) {
            float[] copy = s.clone();
            Arrays.sort(copy);
            float kth = copy[copy.length - params.topK()];
            for (int i = 0; i < vocab; i++) {
                if (s[i] < kth) {
                    s[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        return draw(s);
    }

    static int argmax(float[] s) {
        int best = 0;
        for (int i = 1; i < s.length; i++) {
            if (s[i] > s[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Softmax over the finite scores, nucleus cut at top-p (at least one token kept), then one draw. */
    private int draw(float[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) {
            max = Math.max(max, v);
        }
        int n = 0;
        long[] order = new long[s.length];   // descending by score: (~sortable bits << 32) | index
        double[] p = new double[s.length];
        double total = 0;
        for (int i = 0; i < s.length; i++) {
            if (s[i] != Float.NEGATIVE_INFINITY) {
                p[i] = Math.exp(s[i] - max);
                total += p[i];
                order[n++] = ((long) ~sortable(s[i]) << 32) | i;
            }
        }
        long[] kept = Arrays.copyOf(order, n);
        Arrays.sort(kept);
        int keep = n;
        if (params.topP() < 1.0) {
            double before = 0;
            for (int j = 0; j < n; j++) {
                if (before >= params.topP() * total && j > 0) {
                    keep = j;
                    break;
                }
                before += p[(int) kept[j]];
            }
        }
        double mass = 0;
        for (int j = 0; j < keep; j++) {
            mass += p[(int) kept[j]];
        }
        double u = rng.nextDouble() * mass;
        for (int j = 0; j < keep; j++) {
            u -= p[(int) kept[j]];
            if (u < 0) {
                return (int) kept[j];
            }
        }
        return (int) kept[keep - 1];
    }

    private static int sortable(float f) {
        int bits = Float.floatToIntBits(f);
        return bits >= 0 ? bits : bits ^ 0x7fffffff;
    }
}
