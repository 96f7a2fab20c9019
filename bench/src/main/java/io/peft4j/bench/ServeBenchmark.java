package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.serve.OpenAiServer;
import io.peft4j.serve.ServeConfig;
import io.peft4j.serve.ServedModel;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Load test of the OpenAI-compatible server ({@code peft4j bench serve}): {@code clients} concurrent HTTP clients
 * send greedy completions for {@code adapters} random LoRA adapters and the base, with prompts of mixed lengths,
 * for {@code seconds}; every answer is checked against the library's {@link Generator} with that adapter alone.
 * Then the same kinds of requests are sent one at a time for the baseline. Reports failures, wrong answers, p50 /
 * p99 latency, tokens/s, the ratio to one-at-a-time, and RSS (median of samples around 1 and 2 minutes, or around
 * the middle and the end of a shorter run).
 *
 * <pre>{@code
 * Map<String, Object> r = ServeBenchmark.report(Path.of("model.gguf"), 16, 4, 120, 24, System.err::println);
 * }</pre>
 */
public final class ServeBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] PROMPT_LENGTHS = {8, 40, 120};
    private static final String TEXT = "The history of the city begins with a small settlement on the river. "
            + "Merchants came from the north and the south, trading grain, salt, wool and iron. Over the centuries "
            + "the town grew walls, a market square, a cathedral and a university, and its people learned to write "
            + "down their laws, their songs and their accounts. Travellers described the bridges, the gardens and "
            + "the noise of the workshops, and scholars argued about the origin of its name for a long time.";

    private ServeBenchmark() {
    }

    /** One kind of request: an adapter (or the base) and a prompt, with the text a lone greedy run gives. */
    private record Kind(String model, String adapter, int[] prompt, String expected) {
    }

    /** {@code peft4j bench serve}: loads {@code model}, starts a server on a free port and runs the load. */
    public static Map<String, Object> report(Path model, int clients, int adapters, int seconds, int maxTokens,
                                             Consumer<String> status) throws PeftException, NoSuchFileException,
            InterruptedException {
        if (clients < 1 || adapters < 0 || seconds < 1 || maxTokens < 1) {
            throw new IllegalArgumentException("--clients, --duration and --max-tokens must be >= 1, --adapters >= 0");
        }
        try (BenchModel base = BenchModel.open(model); PeftModel peft = PeftModel.wrap(base.model())) {
            Tokenizer tok = base.checkpoint().tokenizer();
            LoraConfig lora = LoraConfig.builder().optR(8).optLoraAlpha(16)
                    .optInitLoraWeights(InitLoraWeights.RANDOM).build();
            for (int i = 0; i < adapters; i++) {
                peft.addAdapter("a" + i, lora, 100 + i);
            }
            List<Kind> kinds = kinds(peft, tok, model.getFileName().toString(), adapters, maxTokens);
            status.accept("bench serve: " + kinds.size() + " request kinds, expected texts computed");
            ServeConfig config = ServeConfig.builder().optPort(0).optMaxBatch(clients).optMaxQueue(4 * clients)
                    .build();
            try (OpenAiServer server = OpenAiServer.start(new ServedModel(model.getFileName().toString(), peft, tok,
                    null), config)) {
                return load(server.uri(), kinds, clients, seconds, maxTokens, status);
            }
        }
    }

    private static List<Kind> kinds(PeftModel peft, Tokenizer tok, String baseName, int adapters, int maxTokens) {
        int[] text = tok.encode(TEXT, false);
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(maxTokens).build();
        List<Kind> kinds = new ArrayList<>();
        for (int a = -1; a < adapters; a++) {
            String adapter = a < 0 ? AdapterRegistry.BASE : "a" + a;
            for (int k = 0; k < PROMPT_LENGTHS.length; k++) {
                int len = Math.min(PROMPT_LENGTHS[k], text.length - (a + 1));
                int[] prompt = Arrays.copyOfRange(text, a + 1, a + 1 + len);   // each adapter its own prompts
                String expected;
                try (MixedAdapterModel m = peft.withAdapter(adapter)) {
                    expected = new Generator(m, tok).generateIds(new int[][] {prompt}, greedy, TokenListener.NONE)
                            .texts().get(0);
                }
                kinds.add(new Kind(a < 0 ? baseName : adapter, adapter, prompt, expected));
            }
        }
        return kinds;
    }

    private static Map<String, Object> load(URI uri, List<Kind> kinds, int clients, int seconds, int maxTokens,
                                            Consumer<String> status) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().build();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger tokens = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        List<long[]> rss = Collections.synchronizedList(new ArrayList<>());   // {ms since start, bytes}
        List<long[]> heap = Collections.synchronizedList(new ArrayList<>());  // {ms since start, committed heap}
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                while (System.nanoTime() < end) {
                    Kind k = kinds.get(Math.floorMod(next.getAndIncrement(), kinds.size()));
                    long t0 = System.nanoTime();
                    try {
                        JsonNode r = complete(http, uri, k, maxTokens);
                        latencies.add(System.nanoTime() - t0);
                        tokens.addAndGet(r.get("usage").get("completion_tokens").asInt());
                        if (!k.expected().equals(r.get("choices").get(0).get("text").asText())) {
                            wrong.incrementAndGet();
                        }
                    } catch (IOException | RuntimeException e) {
                        failures.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-client-" + c);
            t.start();
            threads.add(t);
        }
        while (System.nanoTime() < end) {
            Thread.sleep(2000);
            System.gc();
            long at = (System.nanoTime() - start) / 1_000_000;
            rss.add(new long[] {at, ProcessMemory.rssBytes().orElse(-1)});
            heap.add(new long[] {at, Runtime.getRuntime().totalMemory()});
            status.accept(String.format("bench serve: %ds, %d requests, %d failed, %d wrong",
                    (System.nanoTime() - start) / 1_000_000_000L, latencies.size(), failures.get(), wrong.get()));
        }
        for (Thread t : threads) {
            t.join();
        }
        double concurrentS = (System.nanoTime() - start) / 1e9;
        int requests = latencies.size();
        double serialTokS = serial(http, uri, kinds, maxTokens, wrong, failures);
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", "serve");
        out.put("clients", clients);
        out.put("seconds", seconds);
        out.put("requests", requests);
        out.put("failed", failures.get());
        out.put("wrong", wrong.get());
        out.put("p50_latency_s", round(sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2) / 1e9));
        out.put("p99_latency_s", round(sorted.isEmpty() ? Double.NaN
                : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)) / 1e9));
        out.put("tokens_per_s", round(tokens.get() / concurrentS));
        out.put("serial_tokens_per_s", round(serialTokS));
        out.put("ratio_throughput_vs_serial", round(tokens.get() / concurrentS / serialTokS));
        rssKeys(out, rss, heap, seconds);
        out.put("load_average", round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        return out;
    }

    /** Tokens/s of every kind sent once, one at a time (the baseline). */
    private static double serial(HttpClient http, URI uri, List<Kind> kinds, int maxTokens, AtomicInteger wrong,
                                 AtomicInteger failures) throws InterruptedException {
        long t0 = System.nanoTime();
        int tokens = 0;
        for (Kind k : kinds) {
            try {
                JsonNode r = complete(http, uri, k, maxTokens);
                tokens += r.get("usage").get("completion_tokens").asInt();
                if (!k.expected().equals(r.get("choices").get(0).get("text").asText())) {
                    wrong.incrementAndGet();
                }
            } catch (IOException | RuntimeException e) {
                failures.incrementAndGet();
            }
        }
        return tokens / ((System.nanoTime() - t0) / 1e9);
    }

    private static JsonNode complete(HttpClient http, URI uri, Kind k, int maxTokens)
            throws IOException, InterruptedException {
        Map<String, Object> body = Map.of("model", k.model(), "prompt", k.prompt(), "max_tokens", maxTokens,
                "temperature", 0);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri.resolve("/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /**
     * RSS (MB, median of the samples within 10 s) at 1 and 2 minutes, or at the middle and end of a shorter run, and
     * the same for the committed Java heap, so that growth of the heap (the serial collector's old generation) can be
     * told from native growth ({@code rss_outside_heap_growth_pct}).
     */
    private static void rssKeys(Map<String, Object> out, List<long[]> samples, List<long[]> heap, int seconds) {
        boolean minutes = seconds >= 120;
        long first = minutes ? 60_000 : seconds * 500L;
        long second = minutes ? 120_000 : seconds * 1000L;
        double a = medianAround(samples, first);
        double b = medianAround(samples, second);
        double ha = medianAround(heap, first);
        double hb = medianAround(heap, second);
        out.put(minutes ? "rss_mb_1min" : "rss_mb_mid", round(a));
        out.put(minutes ? "rss_mb_2min" : "rss_mb_end", round(b));
        out.put("rss_growth_pct", round(100 * (b - a) / a));
        out.put(minutes ? "heap_committed_mb_1min" : "heap_committed_mb_mid", round(ha));
        out.put(minutes ? "heap_committed_mb_2min" : "heap_committed_mb_end", round(hb));
        out.put("rss_outside_heap_growth_pct", round(100 * ((b - hb) - (a - ha)) / (a - ha)));
    }

    private static double medianAround(List<long[]> samples, long atMs) {
        List<Long> near = new ArrayList<>();
        for (long[] s : samples) {
            if (Math.abs(s[0] - atMs) <= 10_000 && s[1] > 0) {
                near.add(s[1]);
            }
        }
        Collections.sort(near);
        return near.isEmpty() ? Double.NaN : near.get(near.size() / 2) / 1048576.0;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
