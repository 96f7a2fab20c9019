package io.peft4j.core.tokenizer;

import io.peft4j.core.tokenizer.internal.SentencePieceMerges;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** generate_merges semantics, worked out by hand from transformers' Python. */
class SentencePieceMergesTest {

    @Test
    void generate_ordersByScoreThenLengthsDescending_stableOnTies() {
        List<String> tokens = List.of("<unk>", "\u2581", "h", "i", "\u2581h", "hi", "\u2581hi");
        float[] scores = {0, -1, -2, -3, -4, -5, -6};
        Map<String, Integer> vocab = new LinkedHashMap<>();
        Map<String, Double> byToken = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            vocab.put(tokens.get(i), i);
            byToken.put(tokens.get(i), (double) scores[i]);
        }
        // "▁hi" (score -6) splits two ways; within the token (▁=1, hi=5) sorts before (▁h=4, i=3) by id, but the
        // global sort puts the longer left half first on equal scores.
        assertEquals(List.of("\u2581 h", "h i", "\u2581h i", "\u2581 hi"),
                SentencePieceMerges.generate(vocab, byToken).stream().map(p -> p[0] + " " + p[1]).toList());
    }

    @Test
    void generate_splitsAtCodePoints_notUtf16Units() {
        String emoji = "\uD83D\uDE00"; // one code point, two chars
        Map<String, Integer> vocab = new LinkedHashMap<>(Map.of(emoji, 0, "a", 1));
        vocab.put(emoji + "a", 2);
        Map<String, Double> scores = new LinkedHashMap<>();
        scores.put(emoji, 0.0);
        scores.put("a", 0.0);
        scores.put(emoji + "a", -1.0);
        assertEquals(List.of(emoji + " a"),
                SentencePieceMerges.generate(vocab, scores).stream().map(p -> p[0] + " " + p[1]).toList());
    }
}
