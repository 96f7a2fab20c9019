package io.peft4j.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.core.model.llama.FusedDecode;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.quant.GgmlBlockLinear;
import io.peft4j.quant.QuantizedCheckpoints;
import io.peft4j.quant.QuantizedLinear;
import io.peft4j.quant.DecodeKernels;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Decode speed, measured in one run: a {@code promptTokens}-token prompt (English text, tokenized and cut to
 * length), then {@code newTokens} greedy tokens. Prefill tokens/s is the prompt over the time to the first new token;
 * decode tokens/s is {@code newTokens - 1} over the time from the first to the last new token. Measured for the model
 * as {@code peft4j generate} loads it (a GGUF keeps its quantized blocks and decodes fused with the matrix-vector
 * kernel) in turns with llama.cpp ({@code scripts/interop/bench_llamacpp.py}: same GGUF, prompt ids, threads and token
 * count) when llama-cpp-python is in the reference venv; then its peak RSS; then 8 rows over 4 LoRA adapters
 * ({@link AdapterBatchDecode}); then the same model in fp32 (a ratio that holds on a shared machine).
 * {@link #report} is {@code peft4j bench decode}.
 *
 * <pre>{@code
 * DecodeBenchmark.Settings s = new DecodeBenchmark.Settings(256, 64, 3);
 * DecodeBenchmark.Result r = DecodeBenchmark.run(model, new int[][] {promptIds}, s);
 * double tokensPerS = r.decodeTokensPerS();
 * }</pre>
 *
 * @since 0.1.0
 */
public final class DecodeBenchmark {
    private static final String TEXT = "The history of the printing press begins in the fifteenth century, when "
            + "Johannes Gutenberg combined movable metal type, oil-based inks and a screw press adapted from wine "
            + "making. Books, pamphlets and newspapers became cheap enough for ordinary readers, and ideas spread "
            + "across Europe faster than ever before. ";

    /** Prompt length, new tokens and timed runs (median, after one warm-up). */
    public record Settings(int promptTokens, int newTokens, int iterations) {
        public Settings {
            if (promptTokens < 1 || newTokens < 2 || iterations < 1) {
                throw new IllegalArgumentException("decode bench needs promptTokens >= 1, newTokens >= 2, "
                        + "iterations >= 1; got " + promptTokens + ", " + newTokens + ", " + iterations);
            }
        }
    }

    /** Medians of the timed runs, and the process's peak RSS after them. */
    public record Result(double prefillTokensPerS, double decodeTokensPerS, long peakRssBytes) {
    }

    private DecodeBenchmark() {
    }

    /** {@code peft4j bench decode}: the {@code --json} keys. */
    public static Map<String, Object> report(Path modelPath, Settings s, PeerScript peer, Consumer<String> status)
            throws PeftException, IOException, InterruptedException {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", "decode");
        int threads = Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
        int[] prompt;
        try (Checkpoint ckpt = QuantizedCheckpoints.open(modelPath); NDManager m = Peft4j.newManager()) {
            prompt = prompt(ckpt.tokenizer(), s.promptTokens());
            r.put("prompt_tokens", prompt.length);
            r.put("new_tokens", s.newTokens());
            r.put("threads", threads);
            r.put("kernel", DecodeKernels.describe());
            r.put("max_decode_rows", DecodeKernels.maxRows());
            ProcessMemory.resetPeak();
            LinearLayerFactory stored = QuantizedCheckpoints.linearFactory(ckpt, "gguf");
            try (CausalLM model = ModelFamilies.load(ckpt.config(), ckpt.tensors(), stored, m)) {
                r.put("weights", describe(model));
                status.accept("bench decode: peft4j (" + r.get("weights") + ", kernel " + DecodeKernels.describe()
                        + ") and llama.cpp, alternating ...");
                long calls = DecodeKernels.calls();
                long fused = FusedDecode.steps();
                alternating(r, model, prompt, s, modelPath, threads, peer, status);
                r.put("decode_kernel_calls", DecodeKernels.calls() - calls);
                r.put("fused_decode_steps", FusedDecode.steps() - fused);
                r.put("decode_path", "fused " + FusedDecode.decision());
                status.accept("bench decode: 8 rows over 4 LoRA adapters (r 16, all linear layers) ...");
                AdapterBatchDecode.measure(r, model, prompt, s);
            }
            status.accept("bench decode: the same model in fp32 (same run, for the ratio) ...");
            try (CausalLM dense = ModelFamilies.load(ckpt.config(), ckpt.tensors(), DenseLinearFactory.INSTANCE, m)) {
                Result f = run(dense, new int[][] {prompt}, s);
                r.put("fp32_decode_tokens_per_s", round(f.decodeTokensPerS()));
                r.put("fp32_prefill_tokens_per_s", round(f.prefillTokensPerS()));
                r.put("ratio_decode_vs_fp32", round((Double) r.get("decode_tokens_per_s") / f.decodeTokensPerS()));
            }
        }
        return r;
    }

    /**
     * peft4j and llama.cpp in turns ({@code iterations} rounds after one warm-up of peft4j; each llama.cpp run is a
     * fresh process with its own warm-up), so both see the same machine; the ratio is the median of the rounds'
     * ratios. Without llama.cpp only peft4j runs.
     */
    private static void alternating(Map<String, Object> r, CausalLM model, int[] prompt, Settings s, Path gguf,
                                    int threads, PeerScript peer, Consumer<String> status)
            throws IOException, InterruptedException {
        int[][] prompts = {prompt};
        timed(model, prompts, s.newTokens());
        double[] prefill = new double[s.iterations()];
        double[] decode = new double[s.iterations()];
        List<JsonNode> peers = new ArrayList<>();
        for (int i = 0; i < s.iterations(); i++) {
            double[] t = timed(model, prompts, s.newTokens());
            prefill[i] = t[0];
            decode[i] = t[1];
            if (i == peers.size()) {
                peerRun(gguf, prompt, s, threads, peer, status).ifPresent(peers::add);
            }
        }
        r.put("decode_tokens_per_s", round(Medians.of(decode)));
        r.put("prefill_tokens_per_s", round(Medians.of(prefill)));
        r.put("peak_rss_mb", ProcessMemory.peakRssBytes().orElse(-1) / (1 << 20));
        if (peers.isEmpty()) {
            return;
        }
        int n = peers.size();
        double[] theirs = peers.stream().mapToDouble(j -> j.get("decode_tokens_per_s").asDouble()).toArray();
        double[] ratios = new double[n];
        Arrays.setAll(ratios, i -> decode[i] / theirs[i]);
        double rss = peers.stream().mapToDouble(j -> j.get("peak_rss_mb").asDouble()).max().orElseThrow();
        r.put("llamacpp_version", peers.get(0).path("version").asText());
        r.put("llamacpp_decode_tokens_per_s", round(Medians.of(theirs)));
        r.put("llamacpp_prefill_tokens_per_s", round(Medians.of(peers.stream()
                .mapToDouble(j -> j.get("prefill_tokens_per_s").asDouble()).toArray())));
        r.put("llamacpp_peak_rss_mb", round(rss));
        r.put("llamacpp_rounds", n);
        r.put("ratio_decode", round(Medians.of(ratios)));
        r.put("ratio_peak_rss", round(((Number) r.get("peak_rss_mb")).doubleValue() / rss));
    }

    /** One llama.cpp run (warm-up plus one timed generation), or empty when it cannot run (the reason is printed). */
    private static Optional<JsonNode> peerRun(Path model, int[] prompt, Settings s, int threads, PeerScript peer,
                                              Consumer<String> status) throws IOException, InterruptedException {
        String ids = Arrays.stream(prompt).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Optional<JsonNode> ref = peer.run("bench_llamacpp.py", List.of("--model", model.toString(), "--prompt-ids", ids,
                "--new-tokens", "" + s.newTokens(), "--threads", "" + threads, "--iters", "1"),
                "bench decode", "llama.cpp", status);
        if (ref.isPresent() && ref.get().has("skipped")) {
            status.accept("bench decode: no llama.cpp ratio: " + ref.get().get("skipped").asText());
            return Optional.empty();
        }
        return ref;
    }

    /** One warm-up, then the medians of {@code iterations} greedy runs over {@code prompts} (one row each). */
    public static Result run(CausalLM model, int[][] prompts, Settings s) {
        timed(model, prompts, s.newTokens());
        double[] prefill = new double[s.iterations()];
        double[] decode = new double[s.iterations()];
        for (int i = 0; i < s.iterations(); i++) {
            double[] t = timed(model, prompts, s.newTokens());
            prefill[i] = t[0];
            decode[i] = t[1];
        }
        return new Result(Medians.of(prefill), Medians.of(decode), ProcessMemory.peakRssBytes().orElse(-1));
    }

    /**
     * One greedy generation of {@code newTokens} per row (EOS ignored, so every run has the same length): prefill
     * tokens/s (all prompt tokens over the time to the first new token) and decode tokens/s (every row's tokens after
     * its first, over the time from the first new token to the last).
     */
    static double[] timed(CausalLM model, int[][] prompts, int newTokens) {
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(newTokens)
                .optEosTokenIds(List.of(-1)).build();
        long[] first = {0L};
        long[] last = {0L};
        long t0 = System.nanoTime();
        new Generator(model).generateIds(prompts, greedy, (row, token, text) -> {
            long now = System.nanoTime();
            if (first[0] == 0L) {
                first[0] = now;
            }
            last[0] = now;
        });
        int promptTokens = Arrays.stream(prompts).mapToInt(p -> p.length).sum();
        return new double[] {promptTokens / ((first[0] - t0) / 1e9),
            prompts.length * (newTokens - 1) / ((last[0] - first[0]) / 1e9)};
    }

    /** {@code n} tokens of English text (the text repeated as needed), BOS included when the tokenizer adds one. */
    static int[] prompt(Tokenizer tokenizer, int n) {
        StringBuilder text = new StringBuilder(TEXT);
        int[] ids = tokenizer.encode(text.toString(), true);
        while (ids.length < n) {
            text.append(TEXT);
            ids = tokenizer.encode(text.toString(), true);
        }
        return Arrays.copyOf(ids, n);
    }

    /** What the projections are stored as, e.g. {@code 210 GgmlBlockLinear, 1 DenseLinear}. */
    private static String describe(CausalLM model) {
        return model.linearLayers().values().stream().collect(Collectors.groupingBy(l -> l instanceof GgmlBlockLinear
                ? "gguf-blocks" : l instanceof QuantizedLinear ? "4-bit" : l.getClass().getSimpleName(),
                java.util.TreeMap::new, Collectors.counting())).toString();
    }

    /** {@code v} to two decimals, as every decode key is printed. */
    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
