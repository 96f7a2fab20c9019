package io.peft4j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.checkpoint.gguf.GgufFile;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Token ids, special-token ids, decoding and the chat template against Python transformers
 * ({@code scripts/interop/tokenizer_reference.py} → {@code interop/tokenizer_reference.json}) for the SmolLM2 GGUF
 * tokenizer, ../shared/tokenizers/llama2-32k, and a SentencePiece GGUF built from llama2-32k's vocabulary.
 */
class TokenizerInteropIT {

    @Test
    void ggufTokenizer_smolLm2_matchesTransformers() throws Exception {
        Path model = TestResources.testModel();
        try (GgufFile gguf = GgufFile.open(model); Tokenizer tok = GgufTokenizer.fromMetadata(gguf.metadata(), model.toString())) {
            JsonNode expected = reference().get("gguf");
            assertMatches("gguf", tok, expected);
            assertEquals(expected.get("chat_template").asText(), tok.chatTemplate().orElseThrow());
        }
    }

    @Test
    void hfTokenizer_llama2_32k_matchesTransformers() throws Exception {
        Path file = TestResources.shared("tokenizers/llama2-32k/tokenizer.json");
        try (Tokenizer tok = HfTokenizer.load(file)) {
            JsonNode expected = reference().get("llama2-32k");
            assertMatches("llama2-32k", tok, expected);
            assertEquals(expected.get("chat_template").asText(), tok.chatTemplate().orElseThrow());
        }
    }

    @Test
    void ggufTokenizer_sentencePieceFromScores_matchesTransformers() throws Exception {
        Path file = TestResources.shared("tokenizers/llama2-32k/tokenizer.json");
        try (Tokenizer tok = GgufTokenizer.fromMetadata(syntheticLlamaMetadata(file), "synthetic-llama")) {
            assertMatches("synthetic-llama-gguf", tok, reference().get("synthetic-llama-gguf"));
            assertEquals(java.util.Optional.empty(), tok.chatTemplate());
        }
    }

    private static void assertMatches(String name, Tokenizer tok, JsonNode expected) {
        assertNotNull(expected, name + " missing from the reference JSON");
        assertEquals(expected.get("vocab_size").asInt(), tok.vocabSize(), name + " vocab size");
        assertEquals(expected.get("bos_token_id").asInt(), tok.bosTokenId(), name + " bos");
        assertEquals(expected.get("eos_token_id").asInt(), tok.eosTokenId(), name + " eos");
        JsonNode pad = expected.get("pad_token_id");
        assertEquals(pad.isNull() ? tok.eosTokenId() : pad.asInt(), tok.padTokenId(), name + " pad");
        for (JsonNode sample : expected.get("encodings")) {
            String text = sample.get("text").asText();
            String label = name + " sample " + Json.MAPPER.valueToTree(text);
            int[] ids = tok.encode(text, true);
            assertArrayEquals(ints(sample.get("ids")), ids, label + " with special tokens");
            assertArrayEquals(ints(sample.get("ids_no_special")), tok.encode(text, false),
                    label + " without special tokens");
            assertEquals(sample.get("decode").asText(), tok.decode(ids, false), label + " decode");
            assertEquals(sample.get("decode_skip_special").asText(), tok.decode(ids, true),
                    label + " decode skipping special tokens");
        }
    }

    /** The rule tokenizer_reference.py uses for its synthetic SentencePiece GGUF. */
    private static Map<String, Object> syntheticLlamaMetadata(Path tokenizerJson) throws IOException {
        JsonNode vocab = Json.MAPPER.readTree(tokenizerJson.toFile()).get("model").get("vocab");
        String[] tokens = new String[vocab.size()];
        vocab.fields().forEachRemaining(e -> tokens[e.getValue().asInt()] = e.getKey());
        List<Object> types = new ArrayList<>();
        List<Object> scores = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            int kind = t.equals("<unk>") ? 2 : t.equals("<s>") || t.equals("</s>") ? 3
                    : t.length() == 6 && t.startsWith("<0x") && t.endsWith(">") ? 6 : 1;
            types.add(kind);
            scores.add(kind == 1 ? (float) -i : 0f);
        }
        Map<String, Object> md = new HashMap<>();
        md.put("general.architecture", "llama");
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", List.of(tokens));
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.bos_token_id", 1L);
        md.put("tokenizer.ggml.eos_token_id", 2L);
        md.put("tokenizer.ggml.unknown_token_id", 0L);
        return md;
    }

    private static JsonNode reference() throws IOException {
        try (InputStream in = TokenizerInteropIT.class.getResourceAsStream("/interop/tokenizer_reference.json")) {
            assertNotNull(in, "interop/tokenizer_reference.json not on the test classpath");
            return Json.MAPPER.readTree(in);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
