package io.peft4j.serve;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.CharTokenizer;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.SpecialTokens;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server over a tiny random LLaMA (2 layers, hidden 32, vocab 61, context 256) with LoRA adapters "a" and "b"
 * loaded, plus an adapter "c" saved to {@code adapters/c} under a temp folder (not loaded), and a java.net.http client.
 */
final class TinyServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final LoraConfig QV = LoraConfig.builder().optR(8).optLoraAlpha(16)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static final LoraConfig ALL = LoraConfig.builder().optR(4).optLoraAlpha(8)
            .optTargetModules(TargetModules.ALL_LINEAR).optInitLoraWeights(InitLoraWeights.RANDOM).build();

    final NDManager manager = Peft4j.newManager();
    final LlamaModel model;
    final PeftModel peft;
    final CharTokenizer tokenizer = new CharTokenizer();
    final Path adapterRoot;
    final OpenAiServer server;
    final HttpClient http = HttpClient.newHttpClient();
    String apiKey;

    TinyServer(Path temp, ServeConfig.Builder config) throws Exception {
        model = LlamaModel.random(new ModelConfig("LlamaForCausalLM", "llama", CharTokenizer.VOCAB, 32, 48, 2, 4, 2,
                8, 1e-5, 10000.0, ModelConfig.RopeScaling.NONE, 256, true, false, -1, -1), 42, manager);
        peft = PeftModel.wrap(model);
        peft.addAdapter("a", QV, 1L);
        peft.addAdapter("b", ALL, 2L);
        peft.addAdapter("c", QV, 3L);
        adapterRoot = temp.resolve("adapters");
        peft.saveAdapter("c", adapterRoot.resolve("c"));
        peft.deleteAdapter("c");
        ChatTemplate chatml = ChatTemplate.named("chatml", SpecialTokens.of(tokenizer));
        ServeConfig built = config.optPort(0).build();
        apiKey = built.apiKey();
        server = OpenAiServer.start(new ServedModel("tiny", peft, tokenizer, chatml), built);
    }

    TinyServer(Path temp) throws Exception {
        this(temp, ServeConfig.builder().optAllowAdapterUpdates(true));
    }

    /** Greedy text of {@code prompt} from the library's Generator with {@code adapter} ("__base__": none). */
    String generatorText(String adapter, String prompt, int maxTokens) {
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(maxTokens).optRepetitionPenalty(10)
                .build();
        try (MixedAdapterModel m = peft.withAdapter(adapter)) {
            return new Generator(m, tokenizer).generate(List.of(prompt), greedy, TokenListener.NONE).texts().get(0);
        }
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(postRequest(path, body), HttpResponse.BodyHandlers.ofString());
    }

    /** {@link #post(String, String)} without waiting for the answer. */
    CompletableFuture<HttpResponse<String>> postAsync(String path, String body) {
        return http.sendAsync(postRequest(path, body), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest postRequest(String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b.build();
    }

    HttpResponse<String> post(String path, Map<String, ?> body) throws IOException, InterruptedException {
        return post(path, JSON.writeValueAsString(body));
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET();
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    URI uri(String path) {
        return server.uri().resolve(path);
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** A gauge or counter from {@code /metrics}, labels included in {@code name} ({@code x{model="a"}}). */
    long metric(String name) throws IOException, InterruptedException {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\d+)$").matcher(get("/metrics").body());
        if (!m.find()) {
            throw new AssertionError("no metric " + name);
        }
        return Long.parseLong(m.group(1));
    }

    /** Waits (up to 30 s) until no row runs or waits, then returns the live NDArray count. */
    long idleArrays() throws IOException, InterruptedException {
        for (int i = 0; i < 300 && (metric("peft4j_running_rows") > 0 || metric("peft4j_queue_depth") > 0); i++) {
            Thread.sleep(100);
        }
        Thread.sleep(300);   // the scheduler closes the cache once idle
        return metric("peft4j_live_ndarrays");
    }

    @Override
    public void close() {
        server.close();
        peft.close();
        model.close();
        manager.close();
    }
}
