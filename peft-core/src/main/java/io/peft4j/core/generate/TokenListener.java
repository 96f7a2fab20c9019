package io.peft4j.core.generate;

/**
 * Receives tokens as {@link Generator} produces them (streaming).
 *
 * <pre>{@code
 * generator.generate(List.of(prompt), config, (row, token, text) -> System.out.print(text));
 * }</pre>
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface TokenListener {

    /**
     * @param row       index of the prompt in the batch
     * @param tokenId   the new token
     * @param textDelta text this token completes ("" while a multi-byte character is unfinished, or without a
     *                  tokenizer)
     */
    void onToken(int row, int tokenId, String textDelta);

    /** A listener that ignores everything. */
    TokenListener NONE = (row, token, text) -> { };
}
