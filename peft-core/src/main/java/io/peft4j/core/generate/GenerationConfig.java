package io.peft4j.core.generate;

import java.util.List;

/**
 * How {@link Generator} picks tokens, with transformers' meanings: {@code temperature == 0} is greedy decoding;
 * otherwise logits are divided by the temperature, cut to the {@code topK} best (0 = off) and to the smallest set
 * whose probability reaches {@code topP} (1 = off), then sampled with a {@link java.util.Random} seeded by
 * {@code seed} (same seed, same text). {@code repetitionPenalty} (1 = off) divides positive and multiplies
 * negative logits of every token already in the sequence (CTRL, arXiv 1909.05858).
 *
 * <pre>{@code
 * GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(32).build();
 * GenerationConfig sampled = greedy.withSampling(0.7, 50, 0.9, 1234L);
 * }</pre>
 *
 * @param maxNewTokens      tokens to generate at most per sequence
 * @param temperature       0 for greedy, else the softmax temperature
 * @param topK              keep the k most likely tokens (0 = all)
 * @param topP              nucleus mass to keep (1 = all)
 * @param repetitionPenalty penalty for tokens already seen (1 = none)
 * @param eosTokenIds       tokens that end a sequence; empty = the model's and tokenizer's EOS
 * @param stopStrings       texts that end a sequence (the text is cut before them)
 * @param seed              sampling seed
 * @param useKvCache        reuse keys/values between steps (false recomputes the whole sequence each step)
 * @param truncatePrompt    a prompt that leaves no room for {@code maxNewTokens} in the model's context window keeps
 *                          only its last tokens (at least one); false (the default) refuses a prompt longer than the
 *                          window, and generation stops when the window is full
 *
 * @since 0.1.0
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
                               List<Integer> eosTokenIds, List<String> stopStrings, long seed, boolean useKvCache,
                               boolean truncatePrompt) {

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be finite and > 0, got " + repetitionPenalty);
        }
        eosTokenIds = List.copyOf(eosTokenIds == null ? List.of() : eosTokenIds);
        stopStrings = List.copyOf(stopStrings == null ? List.of() : stopStrings);
        if (stopStrings.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stopStrings must not contain an empty string");
        }
    }

    /** True when tokens are sampled rather than picked greedily. */
    public boolean sampling() {
        return temperature > 0;
    }

    /** This config with sampling settings replaced. */
    public GenerationConfig withSampling(double newTemperature, int newTopK, double newTopP, long newSeed) {
        return new GenerationConfig(maxNewTokens, newTemperature, newTopK, newTopP, repetitionPenalty, eosTokenIds,
                stopStrings, newSeed, useKvCache, truncatePrompt);
    }

    /** This config with the KV cache switched on or off. */
    public GenerationConfig withKvCache(boolean on) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, eosTokenIds,
                stopStrings, seed, on, truncatePrompt);
    }

    /** This config with prompt truncation switched on or off. */
    public GenerationConfig withTruncatePrompt(boolean on) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, eosTokenIds,
                stopStrings, seed, useKvCache, on);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with transformers' defaults: greedy, 64 new tokens, no penalties, KV cache on, no truncation. */
    public static final class Builder {
        private int maxNewTokens = 64;
        private double temperature;
        private int topK;
        private double topP = 1.0;
        private double repetitionPenalty = 1.0;
        private List<Integer> eos = List.of();
        private List<String> stops = List.of();
        private long seed;
        private boolean useKvCache = true;
        private boolean truncatePrompt;

        public Builder optMaxNewTokens(int v) {
            maxNewTokens = v;
            return this;
        }

        public Builder optTemperature(double v) {
            temperature = v;
            return this;
        }

        public Builder optTopK(int v) {
            topK = v;
            return this;
        }

        public Builder optTopP(double v) {
            topP = v;
            return this;
        }

        public Builder optRepetitionPenalty(double v) {
            repetitionPenalty = v;
            return this;
        }

        public Builder optEosTokenIds(List<Integer> v) {
            eos = v;
            return this;
        }

        public Builder optStopStrings(List<String> v) {
            stops = v;
            return this;
        }

        public Builder optSeed(long v) {
            seed = v;
            return this;
        }

        public Builder optKvCache(boolean v) {
            useKvCache = v;
            return this;
        }

        /** Keep only the last tokens of a prompt that does not fit the context window (default: refuse it). */
        public Builder optTruncatePrompt(boolean v) {
            truncatePrompt = v;
            return this;
        }

        public GenerationConfig build() {
            return new GenerationConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, eos, stops, seed,
                    useKvCache, truncatePrompt);
        }
    }
}
