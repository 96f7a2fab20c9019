package io.peft4j.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ShareGPT sample renders byte-identically to transformers (sha256 of the expected text) under every template. */
class ChatTemplateGoldenIT {

    @Test
    void render_shareGptSample_matchesTransformersHash() throws Exception {
        ChatTemplateGolden golden = new ChatTemplateGolden();
        Conversation c = DatasetReader.builder()
                .setPath(TestResources.shared("datasets/sharegpt-sample/conversation.json")).build().readAll()
                .records().get(0);
        List<JsonNode> cases = golden.cases(true);
        assertTrue(cases.size() >= 18, "cases: " + cases.size());
        for (JsonNode k : cases) {
            String text = golden.template(k.get("template").asText()).render(c, k.get("add_generation_prompt").asBoolean());
            String what = ChatTemplateGolden.describe(k);
            assertEquals(k.get("expected_head").asText(), text.substring(0, Math.min(120, text.length())), what);
            assertEquals(k.get("expected_length").asInt(), text.length(), what);
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            assertEquals(k.get("expected_sha256").asText(), HexFormat.of().formatHex(sha), what);
        }
    }
}
