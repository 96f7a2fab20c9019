package io.peft4j.serve.internal;

import java.util.List;

/**
 * How one choice of a request is generated, already validated: OpenAI's fields plus vLLM's extensions
 * ({@code top_k}, {@code repetition_penalty}).
 *
 * @param maxTokens         new tokens at most
 * @param temperature       0 = greedy
 * @param topP              nucleus mass (1 = off)
 * @param topK              k best tokens (0 = off)
 * @param seed              sampling seed
 * @param stop              texts that end the choice (cut before them)
 * @param presencePenalty   OpenAI's presence penalty over generated tokens
 * @param frequencyPenalty  OpenAI's frequency penalty over generated tokens
 * @param repetitionPenalty transformers' repetition penalty over prompt and generated tokens (1 = off)
 */
public record SamplingParams(int maxTokens, double temperature, double topP, int topK, long seed, List<String> stop,
                             double presencePenalty, double frequencyPenalty, double repetitionPenalty) {

    public SamplingParams {
        stop = List.copyOf(stop);
    }

    /** This with another seed (choice {@code i} of {@code n} uses {@code seed + i}). */
    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(maxTokens, temperature, topP, topK, newSeed, stop, presencePenalty,
                frequencyPenalty, repetitionPenalty);
    }

    /** Longest stop text (held back while streaming, since it may still turn into a stop). */
    int longestStop() {
        return stop.stream().mapToInt(String::length).max().orElse(0);
    }
}
