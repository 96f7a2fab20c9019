package io.peft4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.peft4j.serve.TinyServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every route and error of the server over java.net.http, on a tiny random model. */
class OpenAiServerTest {
    @TempDir
    static Path temp;
    static TinyServer s;

    @BeforeAll
    static void start() throws Exception {
        s = new TinyServer(temp);
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    @Test
    void models_listsBaseAndAdaptersWithParent() throws Exception {
        HttpResponse<String> r = s.get("/v1/models");
        assertEquals(200, r.statusCode());
        JsonNode data = json(r).get("data");
        assertEquals("list", json(r).get("object").asText());
        assertEquals("tiny", data.get(0).get("id").asText());
        assertTrue(data.get(0).get("parent").isNull());
        List<String> ids = new ArrayList<>();
        data.forEach(m -> ids.add(m.get("id").asText()));
        assertTrue(ids.containsAll(List.of("tiny", "a", "b")), ids.toString());
        data.forEach(m -> assertEquals("model", m.get("object").asText()));
        assertEquals("tiny", data.get(1).get("parent").asText());
    }

    @Test
    void completion_greedy_equalsGeneratorTextWithUsageAndLength() throws Exception {
        HttpResponse<String> r = s.post("/v1/completions", Map.of("model", "a", "prompt", "HELLO", "max_tokens", 7,
                "temperature", 0, "repetition_penalty", 10));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals("text_completion", body.get("object").asText());
        assertTrue(body.get("id").asText().startsWith("cmpl-"));
        JsonNode choice = body.get("choices").get(0);
        assertEquals(s.generatorText("a", "HELLO", 7), choice.get("text").asText());
        assertEquals("length", choice.get("finish_reason").asText());
        assertEquals(5, body.get("usage").get("prompt_tokens").asInt());
        assertEquals(7, body.get("usage").get("completion_tokens").asInt());
        assertEquals(12, body.get("usage").get("total_tokens").asInt());
    }

    @Test
    void completion_stopString_cutsTextFinishStop() throws Exception {
        String full = s.generatorText("b", "ABCD", 8);
        String stop = full.substring(3, 5);
        JsonNode body = json(s.post("/v1/completions", Map.of("model", "b", "prompt", "ABCD", "max_tokens", 8,
                "temperature", 0, "repetition_penalty", 10, "stop", List.of(stop))));
        JsonNode choice = body.get("choices").get(0);
        assertEquals(full.substring(0, full.indexOf(stop)), choice.get("text").asText());
        assertEquals("stop", choice.get("finish_reason").asText());
    }

    @Test
    void completion_nChoicesAndPromptList_indexedPerPromptThenChoice() throws Exception {
        JsonNode body = json(s.post("/v1/completions", Map.of("model", "tiny", "prompt", List.of("AB", "CDE"),
                "max_tokens", 3, "n", 2, "temperature", 0.9, "seed", 7)));
        JsonNode choices = body.get("choices");
        assertEquals(4, choices.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(i, choices.get(i).get("index").asInt());
            assertEquals(3, choices.get(i).get("text").asText().length());
        }
        assertEquals(5, body.get("usage").get("prompt_tokens").asInt());   // each prompt once
        assertEquals(12, body.get("usage").get("completion_tokens").asInt());
        JsonNode again = json(s.post("/v1/completions", Map.of("model", "tiny", "prompt", List.of("AB", "CDE"),
                "max_tokens", 3, "n", 2, "temperature", 0.9, "seed", 7)));
        assertEquals(choices, again.get("choices"), "same seed, same samples");
    }

    @Test
    void completion_stream_chunksThenDone_concatenationEqualsNonStreamed() throws Exception {
        Map<String, Object> req = Map.of("model", "a", "prompt", "XYZ", "max_tokens", 6, "temperature", 0,
                "repetition_penalty", 10, "stream", true, "stream_options", Map.of("include_usage", true));
        HttpResponse<String> r = s.post("/v1/completions", req);
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.get(data.size() - 1));
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String d : data.subList(0, data.size() - 2)) {
            JsonNode chunk = TinyServer.JSON.readTree(d);
            assertEquals("text_completion", chunk.get("object").asText());
            text.append(chunk.get("choices").get(0).get("text").asText());
            if (!chunk.get("choices").get(0).get("finish_reason").isNull()) {
                finish = chunk.get("choices").get(0).get("finish_reason").asText();
            }
        }
        assertEquals(s.generatorText("a", "XYZ", 6), text.toString());
        assertEquals("length", finish);
        JsonNode usage = TinyServer.JSON.readTree(data.get(data.size() - 2));
        assertEquals(0, usage.get("choices").size());
        assertEquals(6, usage.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void chat_rendersTemplate_messageAndChunks() throws Exception {
        Map<String, Object> req = Map.of("model", "b", "max_tokens", 4, "temperature", 0,
                "messages", List.of(Map.of("role", "system", "content", "BE BRIEF"),
                        Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "HI")))));
        JsonNode body = json(s.post("/v1/chat/completions", req));
        assertEquals("chat.completion", body.get("object").asText());
        JsonNode msg = body.get("choices").get(0).get("message");
        assertEquals("assistant", msg.get("role").asText());
        assertEquals(4, msg.get("content").asText().length());
        assertTrue(body.get("usage").get("prompt_tokens").asInt() > 10, "the template adds its markers");
        Map<String, Object> streamed = new java.util.HashMap<>(req);
        streamed.put("stream", true);
        List<String> data = s.post("/v1/chat/completions", streamed).body().lines()
                .filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        JsonNode first = TinyServer.JSON.readTree(data.get(0));
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals("assistant", first.get("choices").get(0).get("delta").get("role").asText());
        StringBuilder text = new StringBuilder();
        for (String d : data.subList(0, data.size() - 1)) {
            text.append(TinyServer.JSON.readTree(d).get("choices").get(0).get("delta").path("content").asText());
        }
        assertEquals(msg.get("content").asText(), text.toString());
        assertEquals("[DONE]", data.get(data.size() - 1));
    }

    @Test
    void errors_openAiJsonWithStatusAndParam() throws Exception {
        assertError(s.post("/v1/completions", Map.of("model", "nope", "prompt", "A")), 404, "model");
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "temperature", -1)), 400, "temperature");
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "top_p", 0)), 400, "top_p");
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "n", 0)), 400, "n");
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "max_tokens", 1e9)), 400, "max_tokens");
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "max_tokens", "ten")), 400, "max_tokens");
        assertError(s.post("/v1/completions", Map.of("prompt", "A".repeat(300))), 400, "prompt");
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "logprobs", 3)), 400, "logprobs");
        assertError(s.post("/v1/completions", Map.of("max_tokens", 3)), 400, "prompt");
        assertError(s.post("/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "bot",
                "content", "x")))), 400, "messages");
        HttpResponse<String> malformed = s.post("/v1/completions", "{\"prompt\": \"A\",");
        assertEquals(400, malformed.statusCode());
        assertTrue(json(malformed).get("error").get("message").asText().contains("JSON"));
        HttpResponse<String> huge = s.post("/v1/completions", "{\"prompt\": \"" + "A".repeat(10 << 20) + "\"}");
        assertEquals(413, huge.statusCode(), huge.body());
        assertTrue(json(huge).has("error"));
        assertEquals(200, s.post("/v1/completions", Map.of("prompt", "A", "max_tokens", 2)).statusCode(),
                "still serving");
    }

    @Test
    void queueFull_429() throws Exception {
        assertError(s.post("/v1/completions", Map.of("prompt", "A", "n", 64, "max_tokens", 1)), 200, null);
        try (TinyServer small = new TinyServer(temp.resolve("q"), ServeConfig.builder().optMaxQueue(2))) {
            HttpResponse<String> r = small.post("/v1/completions", Map.of("prompt", "A", "n", 3, "max_tokens", 1));
            assertEquals(429, r.statusCode());
            assertEquals("queue_full", json(r).get("error").get("code").asText());
        }
    }

    @Test
    void health_and_metrics() throws Exception {
        HttpResponse<String> h = s.get("/health");
        assertEquals(200, h.statusCode());
        s.post("/v1/completions", Map.of("model", "a", "prompt", "AB", "max_tokens", 2));
        String metrics = s.get("/metrics").body();
        assertTrue(metrics.contains("# TYPE peft4j_batch_size histogram"), metrics);
        assertTrue(metrics.matches("(?s).*peft4j_requests_total\\{model=\"a\"} [1-9].*"), metrics);
        assertTrue(metrics.matches("(?s).*peft4j_generation_tokens_total\\{model=\"a\"} [1-9].*"), metrics);
        assertTrue(metrics.contains("peft4j_queue_depth "), metrics);
        assertTrue(metrics.contains("peft4j_batch_size_bucket{le=\"+Inf\"} "), metrics);
    }

    @Test
    void apiKey_everyRouteButHealth() throws Exception {
        try (TinyServer keyed = new TinyServer(temp.resolve("k"), ServeConfig.builder().optApiKey("s3cret"))) {
            assertEquals(200, keyed.get("/v1/models").statusCode());
            keyed.apiKey = null;
            assertEquals(200, keyed.get("/health").statusCode());
            assertError(keyed.get("/v1/models"), 401, null);
            assertError(keyed.get("/metrics"), 401, null);
            assertError(keyed.post("/v1/completions", Map.of("prompt", "A")), 401, null);
            keyed.apiKey = "wrong";
            HttpResponse<String> wrong = keyed.post("/v1/completions", Map.of("prompt", "A"));
            assertError(wrong, 401, null);
            assertEquals("invalid_api_key", json(wrong).get("error").get("code").asText());
        }
    }

    @Test
    void adapterUpdates_offByDefault_404() throws Exception {
        try (TinyServer locked = new TinyServer(temp.resolve("l"), ServeConfig.builder())) {
            assertEquals(404, locked.post("/v1/load_lora_adapter", Map.of("lora_name", "c",
                    "lora_path", locked.adapterRoot.resolve("c").toString())).statusCode());
            assertEquals(404, locked.post("/v1/unload_lora_adapter", Map.of("lora_name", "a")).statusCode());
        }
    }

    @Test
    void loadAndUnload_servesThenForgetsAdapter_badFoldersRefused() throws Exception {
        try (TinyServer rooted = new TinyServer(temp.resolve("r"), ServeConfig.builder()
                .optAllowAdapterUpdates(true).optAdapterRoot(temp.resolve("r").resolve("adapters")))) {
            Path corrupt = Files.createDirectories(rooted.adapterRoot.resolve("corrupt"));
            Files.writeString(corrupt.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": ");
            Files.write(corrupt.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3});
            assertError(rooted.post("/v1/load_lora_adapter", Map.of("lora_name", "x", "lora_path",
                    corrupt.toString())), 400, "lora_path");
            assertError(rooted.post("/v1/load_lora_adapter", Map.of("lora_name", "x", "lora_path",
                    temp.resolve("adapters").resolve("c").toString())), 400, "lora_path");   // outside the root
            assertError(rooted.post("/v1/load_lora_adapter", Map.of("lora_name", "x", "lora_path",
                    "../../adapters/c")), 400, "lora_path");
            assertError(rooted.post("/v1/load_lora_adapter", Map.of("lora_name", "a", "lora_path", "c")),
                    400, "lora_name");
            HttpResponse<String> ok = rooted.post("/v1/load_lora_adapter", Map.of("lora_name", "c", "lora_path", "c"));
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(rooted.get("/v1/models").body().contains("\"id\":\"c\""));
            Map<String, Object> req = Map.of("model", "c", "prompt", "ABC", "max_tokens", 5, "temperature", 0,
                    "repetition_penalty", 10);
            JsonNode out = json(rooted.post("/v1/completions", req));
            assertEquals(rooted.generatorText("c", "ABC", 5), out.get("choices").get(0).get("text").asText());
            assertNotEquals(rooted.generatorText("a", "ABC", 5), rooted.generatorText("c", "ABC", 5));
            assertEquals(200, rooted.post("/v1/unload_lora_adapter", Map.of("lora_name", "c")).statusCode());
            assertError(rooted.post("/v1/completions", req), 404, "model");
            assertError(rooted.post("/v1/unload_lora_adapter", Map.of("lora_name", "c")), 404, "lora_name");
            assertEquals(200, rooted.post("/v1/completions", Map.of("model", "a", "prompt", "A")).statusCode());
        }
    }

    static void assertError(HttpResponse<String> r, int status, String param) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        if (status != 200) {
            JsonNode e = json(r).get("error");
            assertTrue(e.get("message").asText().length() > 3, r.body());
            if (param != null) {
                assertEquals(param, e.get("param").asText(), r.body());
            }
        }
    }
}
