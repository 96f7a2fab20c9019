package io.peft4j.core.generate;

import java.util.List;

/**
 * What {@link Generator} produced for each prompt of a batch.
 *
 * <pre>{@code
 * GenerationResult r = generator.generate(List.of("Hello"), config, TokenListener.NONE);
 * System.out.println(r.texts().get(0) + " at " + r.tokensPerSecond() + " tokens/s");
 * }</pre>
 *
 * @param tokens     new token ids per prompt (EOS included when it ended the sequence)
 * @param texts      decoded new text per prompt, special tokens skipped and cut before a stop string;
 *                   empty strings when the generator has no tokenizer
 * @param promptTokens tokens per prompt (before padding)
 * @param nanos      wall time of the whole generation, prefill included
 *
 * @since 0.1.0
 */
public record GenerationResult(List<int[]> tokens, List<String> texts, int[] promptTokens, long nanos) {

    public GenerationResult {
        tokens = List.copyOf(tokens);
        texts = List.copyOf(texts);
        promptTokens = promptTokens.clone();
    }

    /** New tokens over all prompts. */
    public int generatedTokens() {
        return tokens.stream().mapToInt(t -> t.length).sum();
    }

    /** Generated tokens per second of wall time (prefill included). */
    public double tokensPerSecond() {
        return nanos == 0 ? 0 : generatedTokens() * 1e9 / nanos;
    }
}
