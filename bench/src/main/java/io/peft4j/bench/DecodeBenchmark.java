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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Single-stream decode speed, measured in one run: a {@code promptTokens}-token prompt (English text, tokenized and
 * cut to length), then {@code newTokens} greedy tokens. Prefill tokens/s is the prompt over the time to the first
 * new token; decode tokens/s is {@code newTokens - 1} over the time from the first to the last new token. Measured
 * for the model as {@code peft4j generate} loads it (a GGUF keeps its quantized blocks and decodes with the
 * matrix-vector kernel), its peak RSS, then for the same model in fp32 (the ratio to it is robust on a shared
 * machine), then llama.cpp ({@code scripts/interop/bench_llamacpp.py}) on the same GGUF, prompt ids, threads and
 * token count when llama-cpp-python is in the reference venv. {@link #report} is {@code peft4j bench decode}.
 *
 * <pre>{@code
 * DecodeBenchmark.Result r = DecodeBenchmark.run(model, promptIds, new DecodeBenchmark.Settings(256, 64, 3));
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
                status.accept("bench decode: peft4j (" + r.get("weights") + ", kernel " + DecodeKernels.describe() + ") ...");
                long calls = DecodeKernels.calls();
                long fused = FusedDecode.steps();
                Result q = run(model, prompt, s);
                r.put("decode_tokens_per_s", round(q.decodeTokensPerS()));
                r.put("prefill_tokens_per_s", round(q.prefillTokensPerS()));
                r.put("peak_rss_mb", q.peakRssBytes() / (1 << 20));
                r.put("decode_kernel_calls", DecodeKernels.calls() - calls);
                r.put("fused_decode_steps", FusedDecode.steps() - fused);
                r.put("decode_path", "fused " + FusedDecode.decision());
            }
            status.accept("bench decode: the same model in fp32 (same run, for the ratio) ...");
            try (CausalLM dense = ModelFamilies.load(ckpt.config(), ckpt.tensors(), DenseLinearFactory.INSTANCE, m)) {
                Result f = run(dense, prompt, s);
                r.put("fp32_decode_tokens_per_s", round(f.decodeTokensPerS()));
                r.put("fp32_prefill_tokens_per_s", round(f.prefillTokensPerS()));
                r.put("ratio_decode_vs_fp32", round((Double) r.get("decode_tokens_per_s") / f.decodeTokensPerS()));
            }
        }
        peer(r, modelPath, prompt, s, threads, peer, status);
        return r;
    }

    private static void peer(Map<String, Object> r, Path model, int[] prompt, Settings s, int threads,
                             PeerScript peer, Consumer<String> status) throws IOException, InterruptedException {
        String ids = Arrays.stream(prompt).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Optional<JsonNode> ref = peer.run("bench_llamacpp.py", List.of("--model", model.toString(), "--prompt-ids", ids,
                "--new-tokens", "" + s.newTokens(), "--threads", "" + threads, "--iters", "" + s.iterations()),
                "bench decode", "llama.cpp", status);
        if (ref.isEmpty()) {
            return;
        }
        if (ref.get().has("skipped")) {
            status.accept("bench decode: no llama.cpp ratio: " + ref.get().get("skipped").asText());
            return;
        }
        double decode = ref.get().get("decode_tokens_per_s").asDouble();
        double rss = ref.get().get("peak_rss_mb").asDouble();
        r.put("llamacpp_version", ref.get().path("version").asText());
        r.put("llamacpp_decode_tokens_per_s", round(decode));
        r.put("llamacpp_prefill_tokens_per_s", round(ref.get().get("prefill_tokens_per_s").asDouble()));
        r.put("llamacpp_peak_rss_mb", round(rss));
        r.put("ratio_decode", round((Double) r.get("decode_tokens_per_s") / decode));
        r.put("ratio_peak_rss", round(((Number) r.get("peak_rss_mb")).doubleValue() / rss));
    }

    /** One warm-up, then the medians of {@code iterations} greedy runs (EOS ignored, so every run has the same length). */
    public static Result run(CausalLM model, int[] prompt, Settings s) {
        Generator g = new Generator(model);
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(s.newTokens())
                .optEosTokenIds(List.of(-1)).build();
        double[] prefill = new double[s.iterations()];
        double[] decode = new double[s.iterations()];
        for (int i = -1; i < s.iterations(); i++) {
            long[] first = {0L};
            long[] last = {0L};
            long t0 = System.nanoTime();
            g.generateIds(new int[][] {prompt}, greedy, (row, token, text) -> {
                long now = System.nanoTime();
                if (first[0] == 0L) {
                    first[0] = now;
                }
                last[0] = now;
            });
            if (i >= 0) {
                prefill[i] = prompt.length / ((first[0] - t0) / 1e9);
                decode[i] = (s.newTokens() - 1) / ((last[0] - first[0]) / 1e9);
            }
        }
        Arrays.sort(prefill);
        Arrays.sort(decode);
        return new Result(Medians.median(prefill), Medians.median(decode), ProcessMemory.peakRssBytes().orElse(-1));
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

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
