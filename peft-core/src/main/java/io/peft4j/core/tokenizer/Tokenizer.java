package io.peft4j.core.tokenizer;

import java.util.Optional;

/**
 * Text to token ids and back, with special tokens handled as Hugging Face transformers does.
 *
 * <pre>{@code
 * try (Tokenizer tok = checkpoint.tokenizer()) {
 *     int[] ids = tok.encode("Hello", true);
 *     String text = tok.decode(ids, true);
 * }
 * }</pre>
 * Implementations are thread-safe.
 *
 * @since 0.1.0
 */
public interface Tokenizer extends AutoCloseable {

    /** Ids of {@code text}; {@code addSpecialTokens} adds what the tokenizer's post-processor adds (e.g. BOS). */
    int[] encode(String text, boolean addSpecialTokens);

    /** Text of {@code ids}; {@code skipSpecialTokens} drops special tokens such as BOS/EOS. */
    String decode(int[] ids, boolean skipSpecialTokens);

    int vocabSize();

    /** -1 when the tokenizer has none. */
    int bosTokenId();

    /** -1 when the tokenizer has none. */
    int eosTokenId();

    /** Padding id; falls back to EOS as transformers' training recipes do, -1 when neither exists. */
    int padTokenId();

    /** The token string of {@code id}, or {@code null} when out of range. */
    String idToToken(int id);

    /** The id of an exact token string, or -1. */
    int tokenToId(String token);

    /** The Jinja chat template shipped with the tokenizer, if any. */
    Optional<String> chatTemplate();

    /**
     * Writes this tokenizer as Hugging Face files ({@code tokenizer.json}, {@code tokenizer_config.json}) into
     * {@code dir}, so a model folder written by peft4j carries its tokenizer. Tokenizers without a Hugging Face
     * form (test doubles) refuse.
     */
    default void save(java.nio.file.Path dir) throws java.io.IOException {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no Hugging Face file form");
    }

    @Override
    void close();
}
