package io.peft4j.serve;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.prompt.PrefixTuningConfig;
import io.peft4j.prompt.PromptTuningConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler under concurrent load on a tiny random model: greedy output per adapter equals the library's
 * Generator whatever else is in the batch; a client that disconnects (streaming or waiting for a whole answer) frees
 * its rows within a few decode steps; a request pipelined behind another is still answered; unloading waits for the
 * requests using the adapter; live NDArrays return to their idle count.
 */
class ContinuousBatchingTest {
    static final List<String> ADAPTERS = List.of("a", "b", "__base__");
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
    void concurrentRequests_mixedAdapters_eachEqualsGeneratorAlone_arraysBackToIdle() throws Exception {
        long idle = s.idleArrays();
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        List<String[]> asked = new ArrayList<>();   // {adapter, prompt, max tokens}
        for (int i = 0; i < 18; i++) {
            String adapter = ADAPTERS.get(i % 3);
            String prompt = "QRSTUVWXYZ".substring(0, 1 + (i * 7) % 10) + (char) ('A' + i);
            int max = 4 + (i * 5) % 13;
            asked.add(new String[] {adapter, prompt, Integer.toString(max)});
            String model = adapter.equals("__base__") ? "tiny" : adapter;
            String body = TinyServer.JSON.writeValueAsString(Map.of("model", model, "prompt", prompt,
                    "max_tokens", max, "temperature", 0, "repetition_penalty", 10, "stream", i % 2 == 0));
            futures.add(s.postAsync("/v1/completions", body));
        }
        for (int i = 0; i < futures.size(); i++) {
            HttpResponse<String> r = futures.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            String text = i % 2 == 0 ? streamedText(r.body()) : TinyServer.json(r).get("choices").get(0)
                    .get("text").asText();
            String[] a = asked.get(i);
            assertEquals(s.generatorText(a[0], a[1], Integer.parseInt(a[2])), text, "request " + i + " " + a[0]);
        }
        System.err.println(s.get("/metrics").body().lines().filter(l -> l.startsWith("peft4j_batch_size")
                || l.startsWith("peft4j_prefill")).reduce("", (x, y) -> x + y + "\n"));
        assertEquals(idle, s.idleArrays(), "live NDArrays back to idle");
    }

    @Test
    void joinsWhileOthersDecode_atDifferentSteps_eachEqualsGeneratorAlone() throws Exception {
        long idle = s.idleArrays();
        long prefillsBefore = s.metric("peft4j_prefills_total");
        List<CompletableFuture<String>> texts = new ArrayList<>();
        List<String[]> asked = new ArrayList<>();   // {adapter, prompt, max tokens}
        for (int i = 0; i < 9; i++) {
            String adapter = ADAPTERS.get(i % 3);
            String prompt = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN".substring(0, 1 + (i * 11) % 40);
            int max = 3 + (i * 7) % 20;                       // rows leave at different steps too
            asked.add(new String[] {adapter, prompt, Integer.toString(max)});
            CompletableFuture<Void> firstChunk = new CompletableFuture<>();
            texts.add(streamAsync(adapter.equals("__base__") ? "tiny" : adapter, prompt, max, firstChunk));
            firstChunk.get();   // the next request joins while this one (and earlier ones) decode
        }
        for (int i = 0; i < texts.size(); i++) {
            String[] a = asked.get(i);
            assertEquals(s.generatorText(a[0], a[1], Integer.parseInt(a[2])), texts.get(i).get(),
                    "request " + i + " " + a[0] + " joined at its own step");
        }
        assertTrue(s.metric("peft4j_prefills_total") - prefillsBefore >= 9, "one prefill per join");
        assertEquals(idle, s.idleArrays(), "live NDArrays back to idle");
    }

    /** A streamed greedy completion read on its own thread; {@code firstChunk} completes at its first text chunk. */
    static CompletableFuture<String> streamAsync(String model, String prompt, int max,
                                                 CompletableFuture<Void> firstChunk) throws Exception {
        String body = TinyServer.JSON.writeValueAsString(Map.of("model", model, "prompt", prompt, "max_tokens", max,
                "temperature", 0, "repetition_penalty", 10, "stream", true));
        HttpRequest request = HttpRequest.newBuilder(s.uri("/v1/completions")).header("Content-Type",
                "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return CompletableFuture.supplyAsync(() -> {
            try {
                StringBuilder sse = new StringBuilder();
                s.http.send(request, HttpResponse.BodyHandlers.ofLines()).body().forEach(line -> {
                    sse.append(line).append('\n');
                    if (line.startsWith("data: ")) {
                        firstChunk.complete(null);
                    }
                });
                firstChunk.complete(null);
                return streamedText(sse.toString());
            } catch (Exception e) {
                firstChunk.complete(null);
                throw new IllegalStateException(e);
            }
        }, r -> {   // a thread per stream: the common pool may have a single thread on a 2-core machine
            Thread t = new Thread(r, "stream-" + prompt.length());
            t.setDaemon(true);
            t.start();
        });
    }

    @Test
    void clientDisconnectMidStream_freesItsRow_othersKeepServing() throws Exception {
        long idle = s.idleArrays();
        long cancelled = s.metric("peft4j_cancelled_choices_total");
        String body = "{\"model\":\"a\",\"prompt\":\"AB\",\"max_tokens\":250,\"stream\":true}";
        try (Socket socket = post(body)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.contains("data: {")) {
                // headers and chunk sizes
            }
            assertTrue(line != null, "got a first chunk");
        }   // the client goes away with ~249 tokens to go
        HttpResponse<String> other = s.post("/v1/completions", Map.of("model", "b", "prompt", "C", "max_tokens", 3));
        assertEquals(200, other.statusCode());
        assertEquals(idle, s.idleArrays(), "the abandoned row left and its arrays were freed");
        assertEquals(0, s.metric("peft4j_running_rows"));
        assertEquals(cancelled + 1, s.metric("peft4j_cancelled_choices_total"), "counted as cancelled");
    }

    @Test
    void clientDisconnectWhileWaitingForAWholeAnswer_cancelsItsRowsWithinAFewSteps() throws Exception {
        long idle = s.idleArrays();
        s.post("/v1/completions", Map.of("model", "a", "prompt", "A", "max_tokens", 1));   // "a" has a token count
        long cancelled = s.metric("peft4j_cancelled_choices_total");
        long generated = s.metric("peft4j_generation_tokens_total{model=\"a\"}");
        long start = s.metric("peft4j_batch_size_count");
        long atClose;
        try (Socket socket = post("{\"model\":\"a\",\"prompt\":\"AB\",\"max_tokens\":250,\"n\":2}")) {
            for (int i = 0; i < 6000 && s.metric("peft4j_batch_size_count") < start + 5; i++) {
                Thread.sleep(10);   // a failure guard only: both rows have decoded 5 steps
            }
            atClose = s.metric("peft4j_batch_size_count");
            assertTrue(atClose >= start + 5, "the rows decode");
        }   // the client goes away without reading, with ~245 tokens per row to go
        for (int i = 0; i < 6000 && s.metric("peft4j_cancelled_choices_total") < cancelled + 2; i++) {
            Thread.sleep(10);
        }
        assertEquals(cancelled + 2, s.metric("peft4j_cancelled_choices_total"), "both choices cancelled");
        long after = s.metric("peft4j_batch_size_count") - atClose;   // the batch is empty now: no more steps
        long tokens = s.metric("peft4j_generation_tokens_total{model=\"a\"}") - generated;
        System.err.printf("non-streaming disconnect: %d decode steps before the close, %d after it, %d tokens "
                + "generated of 500%n", atClose - start, after, tokens);
        assertTrue(after <= 25, after + " decode steps after the client closed");
        assertTrue(tokens <= 2 * (atClose - start + after + 1), tokens + " tokens for 2 rows");
        assertEquals(0, s.metric("peft4j_running_rows"));
        assertEquals(idle, s.idleArrays(), "the abandoned rows left and their arrays were freed");
    }

    @Test
    void requestPipelinedBehindAWholeAnswer_bothAnsweredInOrder() throws Exception {
        String expected = s.generatorText("a", "AB", 40);
        long start = s.metric("peft4j_batch_size_count");
        try (Socket socket = post("{\"model\":\"a\",\"prompt\":\"AB\",\"max_tokens\":40,\"temperature\":0,"
                + "\"repetition_penalty\":10}")) {
            for (int i = 0; i < 6000 && s.metric("peft4j_batch_size_count") < start + 2; i++) {
                Thread.sleep(10);   // a failure guard only
            }
            socket.getOutputStream().write("GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));   // while the first one decodes (RFC 9112 says don't)
            socket.setSoTimeout(60_000);
            String both = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int second = both.indexOf("HTTP/1.1 ", 1);
            assertTrue(both.startsWith("HTTP/1.1 200") && second > 0, both);
            assertTrue(both.substring(0, second).contains("\"text\":" + TinyServer.JSON.writeValueAsString(expected)),
                    both);
            assertTrue(both.substring(second).startsWith("HTTP/1.1 200") && both.substring(second)
                    .contains("\"id\":\"tiny\""), both);
        }
    }

    @Test
    void clientDisconnectWhileQueued_leavesTheQueueBeforeTheRequestsAheadOfIt() throws Exception {
        try (TinyServer one = new TinyServer(temp.resolve("one"), ServeConfig.builder().optMaxBatch(1))) {
            String ahead = "{\"model\":\"a\",\"prompt\":\"AB\",\"max_tokens\":250}";
            List<Socket> earlier = new ArrayList<>();   // 8 x 250 steps, one at a time, ahead of the queued one
            try {
                for (int i = 0; i < 8; i++) {
                    earlier.add(post(one, ahead));
                }
                awaitMetric(one, "peft4j_queue_depth", 7);
                try (Socket queued = post(one, "{\"model\":\"b\",\"prompt\":\"AB\",\"max_tokens\":250}")) {
                    awaitMetric(one, "peft4j_queue_depth", 8);
                }
                awaitMetric(one, "peft4j_cancelled_choices_total", 1);
                assertTrue(one.metric("peft4j_queue_depth") > 0, "left while requests ahead of it still wait");
                assertEquals(0, one.metric("peft4j_generation_tokens_total{model=\"b\"}"), "never ran");
                assertEquals(2, one.metric("peft4j_prompt_tokens_total{model=\"b\"}"), "left the queue");
            } finally {
                for (Socket r : earlier) {
                    r.close();
                }
            }
            one.idleArrays();   // waits for the 8 to be cancelled (or finish)
            assertEquals(0, one.metric("peft4j_queue_depth") + one.metric("peft4j_running_rows"));
            System.err.printf("queued disconnect: %d choices cancelled in all%n",
                    one.metric("peft4j_cancelled_choices_total"));
        }
    }

    /** Waits until {@code name} reaches {@code value} (a 60 s guard against a hang, not a timing assertion). */
    static void awaitMetric(TinyServer server, String name, long value) throws Exception {
        for (int i = 0; i < 6000 && server.metric(name) < value; i++) {
            Thread.sleep(10);
        }
        assertEquals(value, server.metric(name), name);
    }

    static Socket post(String body) throws Exception {
        return post(s, body);
    }

    /** A raw HTTP/1.1 POST of {@code body} to /v1/completions; the caller reads (or not) and closes. */
    static Socket post(TinyServer server, String body) throws Exception {
        Socket socket = new Socket(server.server.uri().getHost(), server.server.port());
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    @Test
    void softPromptAdapters_loadedAtRuntime_shareBatchesWithLora_eachEqualsGeneratorAlone() throws Exception {
        Path soft = temp.resolve("soft");
        try (NDManager m = Peft4j.newManager();
             LlamaModel same = LlamaModel.random(s.model.config(), 42, m);   // TinyServer's base, same fingerprint
             PeftModel scratch = PeftModel.wrap(same)) {
            scratch.addAdapter("p", PromptTuningConfig.builder().setNumVirtualTokens(4).build(), 5L);
            scratch.addAdapter("x", PrefixTuningConfig.builder().setNumVirtualTokens(3).build(), 6L);
            scratch.saveAdapter("p", soft.resolve("p"));
            scratch.saveAdapter("x", soft.resolve("x"));
        }
        for (String name : List.of("p", "x")) {
            HttpResponse<String> load = s.post("/v1/load_lora_adapter", Map.of("lora_name", "soft-" + name,
                    "lora_path", soft.resolve(name).toString()));
            assertEquals(200, load.statusCode(), load.body());
        }
        List<String> adapters = List.of("soft-p", "a", "soft-x", "__base__");
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        List<String[]> asked = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String adapter = adapters.get(i % 4);
            String prompt = "KLMNOPQRST".substring(0, 1 + (i * 3) % 9);
            int max = 5 + i;
            asked.add(new String[] {adapter, prompt, Integer.toString(max)});
            String body = TinyServer.JSON.writeValueAsString(Map.of("model", adapter.equals("__base__") ? "tiny"
                    : adapter, "prompt", prompt, "max_tokens", max, "temperature", 0, "repetition_penalty", 10));
            futures.add(s.postAsync("/v1/completions", body));
        }
        for (int i = 0; i < futures.size(); i++) {
            HttpResponse<String> r = futures.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            String[] a = asked.get(i);
            assertEquals(s.generatorText(a[0], a[1], Integer.parseInt(a[2])),
                    TinyServer.json(r).get("choices").get(0).get("text").asText(), "request " + i + " " + a[0]);
        }
        assertTrue(!s.generatorText("soft-x", "KLM", 8).equals(s.generatorText("__base__", "KLM", 8))
                || !s.generatorText("soft-p", "KLM", 8).equals(s.generatorText("__base__", "KLM", 8)),
                "a soft prompt changes the text");
        for (String name : List.of("soft-p", "soft-x")) {
            assertEquals(200, s.post("/v1/unload_lora_adapter", Map.of("lora_name", name)).statusCode());
        }
    }

    @Test
    void unload_waitsForRequestsUsingTheAdapter() throws Exception {
        HttpResponse<String> load = s.post("/v1/load_lora_adapter", Map.of("lora_name", "c2",
                "lora_path", s.adapterRoot.resolve("c").toString()));
        assertEquals(200, load.statusCode(), load.body());
        String body = TinyServer.JSON.writeValueAsString(Map.of("model", "c2", "prompt", "AB", "max_tokens", 120,
                "temperature", 0, "repetition_penalty", 10));
        CompletableFuture<HttpResponse<String>> running = s.postAsync("/v1/completions", body);
        while (s.metric("peft4j_running_rows") == 0 && !running.isDone()) {
            Thread.sleep(5);
        }
        HttpResponse<String> unload = s.post("/v1/unload_lora_adapter", Map.of("lora_name", "c2"));
        assertEquals(200, unload.statusCode(), unload.body());
        JsonNode done = TinyServer.json(running.get());
        assertEquals("length", done.get("choices").get(0).get("finish_reason").asText(), done.toString());
        assertEquals(120, done.get("usage").get("completion_tokens").asInt());
        assertEquals(404, s.post("/v1/completions", Map.of("model", "c2", "prompt", "A")).statusCode());
    }

    static String streamedText(String sse) throws Exception {
        StringBuilder text = new StringBuilder();
        for (String line : sse.lines().filter(l -> l.startsWith("data: {")).toList()) {
            text.append(TinyServer.JSON.readTree(line.substring(6)).get("choices").get(0).get("text").asText());
        }
        assertTrue(sse.strip().endsWith("data: [DONE]"), sse);
        return text.toString();
    }
}
