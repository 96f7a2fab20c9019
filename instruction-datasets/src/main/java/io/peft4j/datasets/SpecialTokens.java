package io.peft4j.datasets;

import io.peft4j.core.tokenizer.Tokenizer;

import java.util.Objects;

/**
 * The {@code bos_token} and {@code eos_token} strings a chat template receives.
 *
 * <pre>{@code
 * SpecialTokens st = SpecialTokens.of(tokenizer);          // e.g. "<s>", "</s>"
 * ChatTemplate t = ChatTemplate.named("llama-2", st);
 * String eos = st.eos();
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param bos the beginning-of-sequence token text, empty when none
 * @param eos the end-of-sequence token text, empty when none
 *
 * @since 0.1.0
 */
public record SpecialTokens(String bos, String eos) {
    public SpecialTokens {
        Objects.requireNonNull(bos, "bos");
        Objects.requireNonNull(eos, "eos");
    }

    /** The tokenizer's BOS/EOS token strings (empty when it has none). */
    public static SpecialTokens of(Tokenizer tokenizer) {
        return new SpecialTokens(text(tokenizer, tokenizer.bosTokenId()), text(tokenizer, tokenizer.eosTokenId()));
    }

    private static String text(Tokenizer tokenizer, int id) {
        String s = id < 0 ? null : tokenizer.idToToken(id);
        return s == null ? "" : s;
    }
}
