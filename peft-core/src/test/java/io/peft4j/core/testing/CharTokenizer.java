package io.peft4j.core.testing;

import io.peft4j.core.tokenizer.Tokenizer;

import java.util.Optional;

/** A test tokenizer over 61 printable characters ('!' + id), no special tokens: text and ids map one to one. */
public final class CharTokenizer implements Tokenizer {
    /** Its vocabulary size. */
    public static final int VOCAB = 61;

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return text.chars().map(c -> Math.floorMod(c - '!', VOCAB)).toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append((char) ('!' + id));
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() {
        return VOCAB;
    }

    @Override
    public int bosTokenId() {
        return -1;
    }

    @Override
    public int eosTokenId() {
        return -1;
    }

    @Override
    public int padTokenId() {
        return -1;
    }

    @Override
    public String idToToken(int id) {
        return id >= 0 && id < VOCAB ? String.valueOf((char) ('!' + id)) : null;
    }

    @Override
    public int tokenToId(String token) {
        return token.length() == 1 ? encode(token, false)[0] : -1;
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.empty();
    }

    @Override
    public void close() {
    }
}
