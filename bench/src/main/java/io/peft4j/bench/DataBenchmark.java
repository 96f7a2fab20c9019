package io.peft4j.bench;

import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.EncodedDataset;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.SpecialTokens;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Records per second to load, render and tokenize (with label masks) a dataset, by default Alpaca 5000 with the
 * Llama-2 tokenizer from the shared folder ({@code $PEFT4J_SHARED}, default {@code ../shared}). Each phase is timed
 * after one warm-up pass over the first 200 records; the ratio compares rendering to the whole encode (render +
 * tokenize + mask). {@link #report} is {@code peft4j bench data}. Not thread-safe (uses the tokenizer it opens).
 *
 * <pre>{@code
 * Map<String, Object> r = DataBenchmark.report(Path.of("alpaca.json"), Path.of("tokenizer.json"), "alpaca");
 * Object recordsPerS = r.get("load_render_tokenize_records_per_s");
 * }</pre>
 */
public final class DataBenchmark {
    private DataBenchmark() {
    }

    /**
     * Measures {@code data} (null: the shared Alpaca 5000) with {@code tokenizer} (a tokenizer.json or its folder;
     * null: the shared Llama-2 tokenizer) and the built-in {@code template}; returns the {@code --json} keys.
     */
    public static Map<String, Object> report(Path data, Path tokenizer, String template) throws Exception {
        Path shared = Paths.get(System.getenv().getOrDefault("PEFT4J_SHARED", "../shared"));
        Path dataPath = data != null ? data : shared.resolve("datasets/alpaca-subset/alpaca_5000.json");
        Path tokPath = tokenizer != null ? tokenizer : shared.resolve("tokenizers/llama2-32k");
        try (HfTokenizer tok = HfTokenizer.load(tokPath)) {
            ChatTemplate t = ChatTemplate.named(template, SpecialTokens.of(tok));
            ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t).build();
            Dataset warm = DatasetReader.builder().setPath(dataPath).build().readAll();
            enc.encodeAll(warm.records().subList(0, Math.min(200, warm.size())));
            long t0 = System.nanoTime();
            Dataset d = DatasetReader.builder().setPath(dataPath).build().readAll();
            long t1 = System.nanoTime();
            for (Conversation c : d.records()) {
                t.render(c, false);
            }
            long t2 = System.nanoTime();
            EncodedDataset e = enc.encodeAll(d.records());
            long t3 = System.nanoTime();
            double n = d.size();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", "data");
            r.put("records", d.size());
            r.put("tokens", e.stats().tokens());
            r.put("load_records_per_s", perSecond(n, t1 - t0));
            r.put("render_records_per_s", perSecond(n, t2 - t1));
            r.put("encode_records_per_s", perSecond(n, t3 - t2));
            r.put("load_render_tokenize_records_per_s", perSecond(n, (t1 - t0) + (t3 - t2)));
            r.put("encode_tokens_per_s", perSecond(e.stats().tokens(), t3 - t2));
            r.put("ratio_render_of_encode", Math.round((double) (t2 - t1) / (t3 - t2) * 1000) / 1000.0);
            return r;
        }
    }

    private static double perSecond(double count, long nanos) {
        return Math.round(count / (nanos / 1e9) * 10) / 10.0;
    }
}
