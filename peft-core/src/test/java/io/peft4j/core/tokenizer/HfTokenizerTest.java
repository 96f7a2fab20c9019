package io.peft4j.core.tokenizer;

import io.peft4j.core.tokenizer.internal.TokenizerJson;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HfTokenizer on a hand-written 21-token BPE tokenizer.json (Metaspace, BOS template, a 512 truncation the wrapper
 * must switch off). Expected ids are worked out by hand from the merges below.
 */
class HfTokenizerTest {
    private static final String[] VOCAB = {"<unk>", "<s>", "</s>", "\u2581", "h", "e", "l", "o", "w", "r", "d", "a",
        "ll", "\u2581h", "\u2581he", "\u2581hell", "\u2581hello", "\u2581w", "or", "\u2581wor", "\u2581a"};
    private static final String[][] MERGES = {{"l", "l"}, {"\u2581", "h"}, {"\u2581h", "e"}, {"\u2581he", "ll"},
        {"\u2581hell", "o"}, {"\u2581", "w"}, {"o", "r"}, {"\u2581w", "or"}, {"\u2581", "a"}};

    @TempDir
    Path dir;

    @Test
    void encode_withAndWithoutSpecialTokens_matchesHandComputedIds() throws Exception {
        try (Tokenizer tok = load("{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}")) {
            // "▁hello" is one token; "▁world" merges to ▁wor + l + d
            assertArrayEquals(new int[] {1, 16, 19, 6, 10}, tok.encode("hello world", true));
            assertArrayEquals(new int[] {16, 19, 6, 10}, tok.encode("hello world", false));
            assertArrayEquals(new int[] {1}, tok.encode("", true));
        }
    }

    @Test
    void encode_specialTokenStringsInText_mapToTheirIds() throws Exception {
        try (Tokenizer tok = load("{}")) {
            assertArrayEquals(new int[] {16, 2, 1, 16}, tok.encode("hello</s><s>hello", false));
        }
    }

    @Test
    void decode_keepsOrSkipsSpecialTokens() throws Exception {
        try (Tokenizer tok = load("{}")) {
            int[] ids = {1, 16, 19, 6, 10, 2};
            assertEquals("<s> hello world</s>", tok.decode(ids, false));
            assertEquals("hello world", tok.decode(ids, true));
            assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {21}, false));
            assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}, false));
        }
    }

    @Test
    void encode_2000TokenInput_isNotTruncated() throws Exception {
        try (Tokenizer tok = load("{}")) {
            int[] ids = tok.encode("a ".repeat(2000).trim(), true);
            assertEquals(2001, ids.length);
            assertEquals(1, ids[0]);
            assertEquals(20, ids[2000]);
        }
    }

    @Test
    void load_configAndSpecialTokensMap_giveSpecialIdsAndDefaultChatTemplate() throws Exception {
        String config = "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}, \"chat_template\": ["
                + "{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D\"}]}";
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"bos_token\": \"</s>\"}");
        try (Tokenizer tok = load(config)) {
            assertEquals(2, tok.bosTokenId(), "special_tokens_map.json wins over tokenizer_config.json");
            assertEquals(2, tok.eosTokenId());
            assertEquals(2, tok.padTokenId(), "no pad token: falls back to EOS");
            assertEquals("D", tok.chatTemplate().orElseThrow());
            assertEquals(21, tok.vocabSize());
            assertEquals("\u2581hello", tok.idToToken(16));
            assertNull(tok.idToToken(21));
            assertEquals(19, tok.tokenToId("\u2581wor"));
            assertEquals(-1, tok.tokenToId("nope"));
        }
    }

    @Test
    void load_chatTemplateJinjaFile_winsOverConfig() throws Exception {
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages }}");
        try (Tokenizer tok = load("{\"chat_template\": \"other\"}")) {
            assertEquals("{{ messages }}", tok.chatTemplate().orElseThrow());
        }
    }

    @Test
    void load_extraSpecialTokenMissingFromVocab_isAddedWithNextId() throws Exception {
        try (Tokenizer tok = load("{\"additional_special_tokens\": [\"<extra>\"]}")) {
            assertEquals(22, tok.vocabSize());
            assertArrayEquals(new int[] {20, 21}, tok.encode("a<extra>", false));
            assertEquals("a", tok.decode(new int[] {20, 21}, true));
        }
    }

    @Test
    void load_llamaTokenizerClass_prefixesOnlyTheFirstSegment() throws Exception {
        try (Tokenizer tok = load("{\"tokenizer_class\": \"LlamaTokenizer\", \"legacy\": false}")) {
            // transformers' LlamaTokenizer: Metaspace "first" → no ▁ after a special token
            assertArrayEquals(new int[] {2, 4, 5, 12, 7}, tok.encode("</s>hello", false));
            assertArrayEquals(new int[] {16}, tok.encode("hello", false));
        }
        try (Tokenizer tok = load("{}")) {
            assertArrayEquals(new int[] {2, 16}, tok.encode("</s>hello", false), "file as written: always");
        }
    }

    @Test
    void encode_concurrentCallers_getIdenticalResults() throws Exception {
        try (Tokenizer tok = load("{}")) {
            int[] expected = tok.encode("hello world hello a", true);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    results.add(pool.submit(() -> {
                        for (int i = 0; i < 200; i++) {
                            if (!java.util.Arrays.equals(expected, tok.encode("hello world hello a", true))) {
                                return false;
                            }
                        }
                        return true;
                    }));
                }
                for (Future<Boolean> f : results) {
                    assertTrue(f.get());
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void close_thenEncode_throwsIllegalState() throws Exception {
        Tokenizer tok = load("{}");
        tok.close();
        tok.close();
        assertThrows(IllegalStateException.class, () -> tok.encode("hello", true));
    }

    @Test
    void load_badFiles_failWithMessagesNamingThem() throws Exception {
        PeftException missing = assertThrows(PeftException.class, () -> HfTokenizer.load(dir));
        assertTrue(missing.getMessage().contains("tokenizer.json"), missing.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": [1, 2");
        PeftException bad = assertThrows(PeftException.class, () -> HfTokenizer.load(dir));
        assertTrue(bad.getMessage().contains("tokenizer.json") && bad.getMessage().contains("JSON"),
                bad.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\"}}");
        PeftException rejected = assertThrows(PeftException.class, () -> HfTokenizer.load(dir));
        assertTrue(rejected.getMessage().contains("rejected"), rejected.getMessage());
    }

    private Tokenizer load(String tokenizerConfig) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), Json.MAPPER.writeValueAsString(tinyTokenizer()));
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        return HfTokenizer.load(dir);
    }

    static ObjectNode tinyTokenizer() throws Exception {
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree("{\"version\": \"1.0\","
                + "\"truncation\": {\"direction\": \"Right\", \"max_length\": 512, \"strategy\": \"LongestFirst\","
                + " \"stride\": 0}, \"padding\": null, \"normalizer\": null,"
                + "\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\u2581\","
                + " \"prepend_scheme\": \"always\", \"split\": true},"
                + "\"decoder\": {\"type\": \"Metaspace\", \"replacement\": \"\u2581\","
                + " \"prepend_scheme\": \"always\", \"split\": true},"
                + "\"post_processor\": {\"type\": \"TemplateProcessing\","
                + " \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}},"
                + " {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}],"
                + " \"pair\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\","
                + " \"type_id\": 1}}], \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [1],"
                + " \"tokens\": [\"<s>\"]}}}}");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < 3; i++) {
            TokenizerJson.addToken(added, i, VOCAB[i], true);
        }
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.put("unk_token", "<unk>");
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < VOCAB.length; i++) {
            vocab.put(VOCAB[i], i);
        }
        ArrayNode merges = model.putArray("merges");
        for (String[] m : MERGES) {
            merges.add(m[0] + " " + m[1]);
        }
        return root;
    }
}
