package io.peft4j.core.generate;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Random;

/**
 * Picks the next token from one row of logits, in the order transformers applies its logits processors:
 * repetition penalty, then OpenAI's presence and frequency penalties (when set), then, when sampling, temperature,
 * top-k, top-p, softmax and one draw from a {@link Random} seeded with the config's seed. {@link Generator} uses one
 * for a whole batch; a server uses one per sequence, so a sequence sampled with seed {@code s} draws what a
 * one-prompt generation with seed {@code s} draws. Not thread-safe.
 *
 * <pre>{@code
 * TokenSampler sampler = new TokenSampler(GenerationConfig.builder().optTemperature(0.7).optSeed(3).build());
 * int token = sampler.next(logits, row * vocab, vocab, seenTokens, null);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class TokenSampler {
    private final GenerationConfig config;
    private final double presencePenalty;
    private final double frequencyPenalty;
    private final Random rng;

    /** A sampler without presence or frequency penalties. */
    public TokenSampler(GenerationConfig config) {
        this(config, 0, 0);
    }

    /**
     * @param presencePenalty  subtracted once from the score of every token generated so far (OpenAI's meaning)
     * @param frequencyPenalty subtracted from a generated token's score once per time it was generated
     */
    public TokenSampler(GenerationConfig config, double presencePenalty, double frequencyPenalty) {
        if (!Double.isFinite(presencePenalty) || !Double.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("presence and frequency penalties must be finite, got "
                    + presencePenalty + " and " + frequencyPenalty);
        }
        this.config = config;
        this.presencePenalty = presencePenalty;
        this.frequencyPenalty = frequencyPenalty;
        this.rng = new Random(config.seed());
    }

    /**
     * Next token from {@code logits[offset, offset + vocab)}.
     *
     * @param seen      the sequence's tokens so far, prompt included (repetition penalty)
     * @param generated how often each token was generated so far (presence and frequency penalties); may be
     *                  {@code null} when both penalties are 0
     */
    public int next(float[] logits, int offset, int vocab, BitSet seen, int[] generated) {
        float[] s = Arrays.copyOfRange(logits, offset, offset + vocab);
        if (config.repetitionPenalty() != 1.0) {
            float p = (float) config.repetitionPenalty();
            for (int t = seen.nextSetBit(0); t >= 0 && t < vocab; t = seen.nextSetBit(t + 1)) {
                s[t] = s[t] < 0 ? s[t] * p : s[t] / p;
            }
        }
        if (presencePenalty != 0 || frequencyPenalty != 0) {
            for (int t = 0; t < vocab; t++) {
                if (generated[t] > 0) {
                    s[t] -= (float) (presencePenalty + frequencyPenalty * generated[t]);
                }
            }
        }
        if (!config.sampling()) {
            return argmax(s);
        }
        float temperature = (float) config.temperature();
        for (int i = 0; i < vocab; i++) {
            s[i] /= temperature;
        }
        if (config.topK() > 0 && config.topK() < vocab) {
            float kth = kthLargest(s, config.topK());
            for (int i = 0; i < vocab; i++) {
                if (s[i] < kth) {
                    s[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        return draw(s);
    }

    /** The index of the largest score (the first one on ties). */
    public static int argmax(float[] s) {
        int best = 0;
        for (int i = 1; i < s.length; i++) {
            if (s[i] > s[best]) {
                best = i;
            }
        }
        return best;
    }

    private static float kthLargest(float[] s, int k) {
        float[] copy = s.clone();
        Arrays.sort(copy);
        return copy[copy.length - k];
    }

    /** Softmax over the finite scores, nucleus cut at top-p (keeping at least one token), then one draw. */
    private int draw(float[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) {
            max = Math.max(max, v);
        }
        int n = 0;
        long[] order = new long[s.length]; // descending by score: (~sortable bits << 32) | index
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
        if (config.topP() < 1.0) {
            double before = 0;
            for (int j = 0; j < n; j++) {
                if (before >= config.topP() * total && j > 0) {
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

    /** Float bits mapped so that signed int order equals float order. */
    private static int sortable(float f) {
        int bits = Float.floatToIntBits(f);
        return bits >= 0 ? bits : bits ^ 0x7fffffff;
    }
}
