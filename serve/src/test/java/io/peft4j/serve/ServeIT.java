package io.peft4j.serve;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.core.testing.TestResources;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.SpecialTokens;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server over the real SmolLM2-135M-Instruct (fp32) with two random LoRA adapters: concurrent greedy requests
 * for both adapters and the base equal the library's Generator; the official {@code openai} Python package and
 * plain {@code curl} talk to it; hostile requests get 4xx while it keeps serving; live NDArrays return to idle.
 */
class ServeIT {
    static final String PROMPT = "The capital of France is";

    @TempDir
    Path temp;

    @Test
    void realModel_openAiClient_curl_faults() throws Exception {
        Path root = temp.resolve("adapters");
        try (Checkpoint ckpt = Checkpoints.open(TestResources.testModel()); NDManager manager = Peft4j.newManager();
             CausalLM lm = ModelFamilies.load(ckpt.config(), ckpt.tensors(), DenseLinearFactory.INSTANCE, manager);
             PeftModel peft = PeftModel.wrap(lm)) {
            for (String name : List.of("x", "y", "z")) {
                peft.addAdapter(name, TinyServer.QV, name.charAt(0));
                peft.saveAdapter(name, root.resolve(name));
                peft.deleteAdapter(name);
            }
            ChatTemplate chat = ChatTemplate.jinja(ckpt.chatTemplate().or(() -> ckpt.tokenizer().chatTemplate())
                    .orElseThrow(), SpecialTokens.of(ckpt.tokenizer()));
            ServeConfig config = ServeConfig.builder().optPort(0).optAllowAdapterUpdates(true).optAdapterRoot(root)
                    .build();
            try (OpenAiServer server = OpenAiServer.start(new ServedModel("smollm2", peft, ckpt.tokenizer(), chat),
                    config, Map.of("x", root.resolve("x"), "y", root.resolve("y")))) {
                HttpClient http = HttpClient.newHttpClient();
                long idle = idleArrays(http, server);
                greedyEqualsGenerator(http, server, peft, ckpt);
                faults(http, server, root);
                openAiClient(server, root);
                curl(server);
                assertEquals(idle, idleArrays(http, server), "live NDArrays back to idle");
            }
        }
    }

    private void greedyEqualsGenerator(HttpClient http, OpenAiServer server, PeftModel peft, Checkpoint ckpt)
            throws Exception {
        List<String> models = List.of("x", "smollm2", "y");
        List<String> prompts = List.of(PROMPT, "Once upon a time, in a small village by the sea, there lived",
                "def fibonacci(n):");
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String body = TinyServer.JSON.writeValueAsString(Map.of("model", models.get(i), "prompt", prompts.get(i),
                    "max_tokens", 5, "temperature", 0));
            sent.add(http.sendAsync(post(server, "/v1/completions", body), HttpResponse.BodyHandlers.ofString()));
        }
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(5).build();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = sent.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            String adapter = models.get(i).equals("smollm2") ? "__base__" : models.get(i);
            String expected;
            try (MixedAdapterModel m = peft.withAdapter(adapter)) {
                expected = new Generator(m, ckpt.tokenizer()).generate(List.of(prompts.get(i)), greedy,
                        TokenListener.NONE).texts().get(0);
            }
            assertEquals(expected, TinyServer.JSON.readTree(r.body()).get("choices").get(0).get("text").asText(),
                    models.get(i));
        }
    }

    private void faults(HttpClient http, OpenAiServer server, Path root) throws Exception {
        assertEquals(400, send(http, server, "/v1/completions", "{\"prompt\": [1, 2").statusCode());
        assertEquals(413, send(http, server, "/v1/completions",
                "{\"prompt\": \"" + "a".repeat(10 << 20) + "\"}").statusCode());
        assertEquals(400, send(http, server, "/v1/completions",
                "{\"prompt\": \"hi\", \"max_tokens\": 1000000000}").statusCode());
        assertEquals(404, send(http, server, "/v1/completions", "{\"model\": \"nope\", \"prompt\": \"hi\"}")
                .statusCode());
        Path corrupt = Files.createDirectories(root.resolve("corrupt"));
        Files.copy(root.resolve("x").resolve("adapter_config.json"), corrupt.resolve("adapter_config.json"));
        byte[] weights = Files.readAllBytes(root.resolve("x").resolve("adapter_model.safetensors"));
        Files.write(corrupt.resolve("adapter_model.safetensors"), java.util.Arrays.copyOf(weights, weights.length / 2));
        HttpResponse<String> bad = send(http, server, "/v1/load_lora_adapter",
                "{\"lora_name\": \"broken\", \"lora_path\": \"corrupt\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        HttpResponse<String> ok = send(http, server, "/v1/completions",
                "{\"model\": \"x\", \"prompt\": \"hi\", \"max_tokens\": 2}");
        assertEquals(200, ok.statusCode(), "still serving after the faults: " + ok.body());
    }

    private void openAiClient(OpenAiServer server, Path root) throws Exception {
        Path python = TestResources.referencePython();
        Process probe = new ProcessBuilder(python.toString(), "-c", "import openai").start();
        boolean hasOpenAi = probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0;
        if (!hasOpenAi && TestResources.requireShared()) {
            throw new AssertionError("the reference venv lacks openai: run scripts/interop/setup-python.sh");
        }
        Assumptions.assumeTrue(hasOpenAi, "the reference venv lacks openai: run scripts/interop/setup-python.sh");
        Path script = TestResources.repoRoot().resolve("scripts/interop/openai_client_check.py");
        Path err = temp.resolve("python.err");
        Process p = new ProcessBuilder(python.toString(), script.toString(), server.uri().toString(), "smollm2", "x",
                "y", "z", "z").redirectError(err.toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "python timed out");
        assertEquals(0, p.exitValue(), "openai_client_check.py: " + Files.readString(err) + stdout);
        String[] lines = stdout.strip().split("\n");
        JsonNode out = TinyServer.JSON.readTree(lines[lines.length - 1]);
        System.err.println("openai client: " + out);
        assertEquals(3, out.get("models").size(), out.toString());   // base, x, y
        assertEquals(out.get("completion").asText(), out.get("stream").asText());
        assertEquals(404, out.get("after_unload_status").asInt());
        assertEquals("temperature", out.get("bad_request_param").asText());
        assertEquals(3, out.get("adapters").size());
    }

    private void curl(OpenAiServer server) throws Exception {
        Process p = new ProcessBuilder("curl", "-sS", "-f", server.uri() + "/v1/completions", "-H",
                "Content-Type: application/json", "-d",
                "{\"model\": \"y\", \"prompt\": \"" + PROMPT + "\", \"max_tokens\": 3, \"temperature\": 0}")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        JsonNode r = TinyServer.JSON.readTree(out);
        assertEquals("y", r.get("model").asText());
        assertEquals(3, r.get("usage").get("completion_tokens").asInt(), out);
    }

    private static HttpResponse<String> send(HttpClient http, OpenAiServer server, String path, String body)
            throws Exception {
        return http.send(post(server, path, body), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest post(OpenAiServer server, String path, String body) {
        return HttpRequest.newBuilder(server.uri().resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static long idleArrays(HttpClient http, OpenAiServer server) throws Exception {
        for (int i = 0; i < 600; i++) {
            String m = http.send(HttpRequest.newBuilder(server.uri().resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (m.contains("\npeft4j_running_rows 0\n") && m.contains("\npeft4j_queue_depth 0\n")) {
                Thread.sleep(300);
                m = http.send(HttpRequest.newBuilder(server.uri().resolve("/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                java.util.regex.Matcher live = java.util.regex.Pattern.compile("\npeft4j_live_ndarrays (\\d+)\n")
                        .matcher(m);
                assertTrue(live.find());
                return Long.parseLong(live.group(1));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not go idle");
    }
}
