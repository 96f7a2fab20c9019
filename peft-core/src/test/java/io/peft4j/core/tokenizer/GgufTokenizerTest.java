package io.peft4j.core.tokenizer;

import io.peft4j.core.tokenizer.internal.ByteLevelAlphabet;
import io.peft4j.core.PeftException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GgufTokenizer on hand-made metadata maps; expected ids worked out by hand from the merges. */
class GgufTokenizerTest {
    private static final String EURO = ByteLevelAlphabet.spell("\u20ac"); // 3 byte characters

    @Test
    void byteLevel_encodeDecode_matchesHandComputedIds() throws Exception {
        try (Tokenizer tok = GgufTokenizer.fromMetadata(gpt2(), "tiny.gguf")) {
            // "hello" → h e, l l, he ll, hell o; " world" → Ġ w, o r, Ġw or, then l, d
            assertArrayEquals(new int[] {16, 12, 15, 3, 8}, tok.encode("hello world", true));
            assertArrayEquals(new int[] {12, 15, 3, 8}, tok.encode("hello world", false));
            assertEquals("<|im_start|>hello world", tok.decode(new int[] {16, 12, 15, 3, 8}, false));
            assertEquals("hello world", tok.decode(new int[] {16, 12, 15, 3, 8}, true));
            assertEquals(16, tok.bosTokenId());
            assertEquals(0, tok.eosTokenId());
            assertEquals(0, tok.padTokenId(), "no padding id: falls back to EOS");
            assertEquals("{{ messages }}", tok.chatTemplate().orElseThrow());
        }
    }

    @Test
    void byteLevel_controlAndUserDefinedTokens_areMatchedWhole() throws Exception {
        try (Tokenizer tok = GgufTokenizer.fromMetadata(gpt2(), "tiny.gguf")) {
            assertArrayEquals(new int[] {16, 17, 12, 0}, tok.encode("<|im_start|><think>hello<|endoftext|>", false));
            // user-defined tokens are not special: skipping specials keeps them
            assertEquals("<think>hello", tok.decode(new int[] {16, 17, 12, 0}, true));
        }
    }

    @Test
    void byteLevel_tokenOutsideByteAlphabet_isRespelledFromUtf8() throws Exception {
        try (Tokenizer tok = GgufTokenizer.fromMetadata(gpt2(), "tiny.gguf")) {
            assertEquals(18, tok.tokenToId(EURO));
            assertEquals(-1, tok.tokenToId("\u20ac"));
            assertArrayEquals(new int[] {18}, tok.encode("\u20ac", false));
            assertEquals("\u20ac", tok.decode(new int[] {18}, false));
        }
    }

    @Test
    void byteLevel_llamaBpePre_splitsDigitsInThrees() throws Exception {
        Map<String, Object> md = gpt2();
        List<String> tokens = new ArrayList<>(tokens(md));
        for (String d : List.of("1", "2", "3", "4", "12", "123", "1234")) { // ids 23..29
            tokens.add(d);
        }
        md.put("tokenizer.ggml.tokens", tokens);
        md.remove("tokenizer.ggml.token_type");
        List<String> merges = new ArrayList<>(merges(md));
        merges.addAll(List.of("1 2", "12 3", "123 4"));
        md.put("tokenizer.ggml.merges", merges);
        try (Tokenizer smollm = GgufTokenizer.fromMetadata(md, "tiny.gguf")) {
            assertArrayEquals(new int[] {29}, smollm.encode("1234", false), "GPT-2 regex keeps digits together");
        }
        md.put("tokenizer.ggml.pre", "llama-bpe");
        try (Tokenizer llama3 = GgufTokenizer.fromMetadata(md, "tiny.gguf")) {
            assertArrayEquals(new int[] {28, 26}, llama3.encode("1234", false), "\\p{N}{1,3}: 123 | 4");
        }
    }

    @Test
    void sentencePiece_mergesFromScores_encodeWithBosByDefault() throws Exception {
        try (Tokenizer tok = GgufTokenizer.fromMetadata(llama(), "sp.gguf")) {
            assertArrayEquals(new int[] {1, 8}, tok.encode("hi", true));
            assertArrayEquals(new int[] {8, 2, 7}, tok.encode("hi</s>hi", false), "prefix only at the start");
            assertEquals("<s> hi", tok.decode(new int[] {1, 8}, false));
            assertEquals("hi", tok.decode(new int[] {1, 8}, true));
        }
    }

    @Test
    void badMetadata_isRefusedNamingTheField() {
        Map<String, Object> t5 = llama();
        t5.put("tokenizer.ggml.model", "t5");
        assertMessage(t5, "unsupported tokenizer model 't5'");
        Map<String, Object> types = llama();
        types.put("tokenizer.ggml.token_type", List.of(1, 1));
        assertMessage(types, "'tokenizer.ggml.token_type': has 2 entries but there are 9 tokens");
        Map<String, Object> noScores = llama();
        noScores.remove("tokenizer.ggml.scores");
        assertMessage(noScores, "'tokenizer.ggml.scores': missing");
        Map<String, Object> bos = llama();
        bos.put("tokenizer.ggml.bos_token_id", 99L);
        assertMessage(bos, "'tokenizer.ggml.bos_token_id': token id 99 is outside the vocabulary of 9 tokens");
        Map<String, Object> noMerges = gpt2();
        noMerges.remove("tokenizer.ggml.merges");
        assertMessage(noMerges, "'tokenizer.ggml.merges': missing");
        Map<String, Object> none = new HashMap<>();
        assertMessage(none, "'tokenizer.ggml.model': missing");
    }

    private static void assertMessage(Map<String, Object> md, String expected) {
        PeftException e = assertThrows(PeftException.class, () -> GgufTokenizer.fromMetadata(md, "bad.gguf"));
        assertTrue(e.getMessage().startsWith("bad.gguf: ") && e.getMessage().contains(expected), e.getMessage());
    }

    static Map<String, Object> gpt2() {
        List<String> tokens = List.of("<|endoftext|>", "h", "e", "l", "o", "\u0120", "w", "r", "d", "he", "ll",
                "hell", "hello", "\u0120w", "or", "\u0120wor", "<|im_start|>", "<think>", "\u20ac",
                EURO.substring(0, 1), EURO.substring(1, 2), EURO.substring(2), EURO.substring(0, 2));
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, 1);
        types[0] = 3;
        types[16] = 3;
        types[17] = 4;
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        md.put("tokenizer.ggml.model", "gpt2");
        md.put("tokenizer.ggml.pre", "smollm");
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.merges", List.of("h e", "l l", "he ll", "hell o", "\u0120 w", "o r",
                "\u0120w or", EURO.charAt(0) + " " + EURO.charAt(1), EURO.substring(0, 2) + " " + EURO.charAt(2)));
        md.put("tokenizer.ggml.bos_token_id", 16L);
        md.put("tokenizer.ggml.eos_token_id", 0L);
        md.put("tokenizer.ggml.add_bos_token", true);
        md.put("tokenizer.chat_template", "{{ messages }}");
        return md;
    }

    static Map<String, Object> llama() {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens",
                List.of("<unk>", "<s>", "</s>", "\u2581", "h", "i", "\u2581h", "hi", "\u2581hi"));
        md.put("tokenizer.ggml.scores", new float[] {0, 0, 0, -1, -2, -3, -4, -5, -6});
        md.put("tokenizer.ggml.token_type", List.of(2, 3, 3, 1, 1, 1, 1, 1, 1));
        md.put("tokenizer.ggml.bos_token_id", 1L);
        md.put("tokenizer.ggml.eos_token_id", 2L);
        md.put("tokenizer.ggml.unknown_token_id", 0L);
        return md;
    }

    @SuppressWarnings("unchecked")
    private static List<String> tokens(Map<String, Object> md) {
        return (List<String>) md.get("tokenizer.ggml.tokens");
    }

    @SuppressWarnings("unchecked")
    private static List<String> merges(Map<String, Object> md) {
        return (List<String>) md.get("tokenizer.ggml.merges");
    }
}
