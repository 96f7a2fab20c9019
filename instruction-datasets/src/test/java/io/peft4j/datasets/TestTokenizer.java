package io.peft4j.datasets;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Test-only {@link Tokenizer} over DJL's HuggingFaceTokenizer for the Llama-2 32k tokenizer in ../shared
 * (TinyLlama's: BOS {@code <s>}=1 added by the post-processor, EOS {@code </s>}=2, pad = EOS). To be replaced by
 * peft-core's HfTokenizer once it is on main.
 */
final class TestTokenizer implements Tokenizer {
    private final HuggingFaceTokenizer hf;
    private final Map<Integer, String> idToToken = new HashMap<>();
    private final Map<String, Integer> tokenToId = new HashMap<>();

    private TestTokenizer(Path json) throws IOException {
        hf = HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false",
                "addSpecialTokens", "true"));
        JsonNode root = Json.MAPPER.readTree(json.toFile());
        root.get("model").get("vocab").fields().forEachRemaining(e -> put(e.getValue().asInt(), e.getKey()));
        for (JsonNode t : root.get("added_tokens")) {
            put(t.get("id").asInt(), t.get("content").asText());
        }
    }

    private void put(int id, String token) {
        idToToken.put(id, token);
        tokenToId.put(token, id);
    }

    /** The Llama-2 32k tokenizer; skips the test when ../shared is absent. */
    static TestTokenizer llama2() {
        try {
            return new TestTokenizer(TestResources.shared("tokenizers/llama2-32k/tokenizer.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = hf.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return hf.decode(l, skipSpecialTokens);
    }

    @Override
    public int vocabSize() {
        return idToToken.size();
    }

    @Override
    public int bosTokenId() {
        return 1;
    }

    @Override
    public int eosTokenId() {
        return 2;
    }

    @Override
    public int padTokenId() {
        return 2;
    }

    @Override
    public String idToToken(int id) {
        return idToToken.get(id);
    }

    @Override
    public int tokenToId(String token) {
        return tokenToId.getOrDefault(token, -1);
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.empty();
    }

    @Override
    public void close() {
        hf.close();
    }
}
