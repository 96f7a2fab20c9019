package io.peft4j.bench;

import io.peft4j.core.Inference;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.model.CausalLM;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Throughput of a {@link CausalLM} on this machine, measured in one run: forward tokens/s on {@code [batch, seq]},
 * greedy generation tokens/s with and without the KV cache, the fp32 GEMM GFLOP/s of this CPU (the roofline)
 * and the model FLOPs utilisation (forward FLOP/s over GEMM FLOP/s). Inputs are seeded random ids. {@link #report}
 * is {@code peft4j bench forward}: the same on a model file, then the same shapes in transformers
 * ({@code scripts/interop/bench_transformers.py}) and the ratios peft4j / transformers.
 *
 * <pre>{@code
 * ForwardBenchmark.Result r = ForwardBenchmark.run(model, new ForwardBenchmark.Shapes(4, 256, 32, 32), 3);
 * double mfu = r.mfu();
 * }</pre>
 */
public final class ForwardBenchmark {

    /** Benchmark shapes: forward on {@code [batch, seq]}; generation of {@code genTokens} after a {@code genPrompt} prompt. */
    public record Shapes(int batch, int seq, int genPrompt, int genTokens) {
        public Shapes {
            if (batch < 1 || seq < 1 || genPrompt < 1 || genTokens < 1) {
                throw new IllegalArgumentException("benchmark shapes must be positive: batch " + batch + ", seq " + seq
                        + ", genPrompt " + genPrompt + ", genTokens " + genTokens);
            }
        }
    }

    /**
     * @param forwardTokensPerS        tokens per second of a full forward (logits at every position)
     * @param generateTokensPerS       new tokens per second, greedy with KV cache (prefill included)
     * @param generateNoCacheTokensPerS new tokens per second, greedy recomputing the sequence every step
     * @param matmulGflops             fp32 GEMM throughput of this machine, measured in the same run
     * @param forwardGflop             model FLOPs of one forward (projections, attention, lm_head)
     * @param mfu                      forward FLOP/s divided by the GEMM FLOP/s
     */
    public record Result(double forwardTokensPerS, double generateTokensPerS, double generateNoCacheTokensPerS,
                         double matmulGflops, double forwardGflop, double mfu) {
    }

    private ForwardBenchmark() {
    }

    /**
     * {@code peft4j bench forward}: loads {@code model}, measures it ({@link #run}) and, unless {@code peer} is
     * {@link PeerScript#NONE}, transformers on the same shapes (2 threads); returns the {@code --json} keys.
     */
    public static Map<String, Object> report(Path model, Shapes s, int iterations, PeerScript peer,
                                             Consumer<String> status)
            throws PeftException, IOException, InterruptedException {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", "forward");
        try (BenchModel base = BenchModel.open(model)) {
            long prefillPeak = prefillPeakRss(base.model(), s.seq()) >> 20;   // first: nothing else has peaked yet
            status.accept("bench forward: peak RSS " + prefillPeak + " MB after a " + s.seq() + "-token prompt");
            status.accept("bench forward: measuring peft4j (batch " + s.batch() + ", seq " + s.seq() + ") ...");
            Result b = run(base.model(), s, iterations);
            r.put("prefill_peak_rss_mb", prefillPeak);
            r.put("batch", s.batch());
            r.put("seq", s.seq());
            r.put("forward_tokens_per_s", round(b.forwardTokensPerS()));
            r.put("generate_tokens_per_s", round(b.generateTokensPerS()));
            r.put("generate_nocache_tokens_per_s", round(b.generateNoCacheTokensPerS()));
            r.put("matmul_gflops", round(b.matmulGflops()));
            r.put("forward_gflop", round(b.forwardGflop()));
            r.put("mfu", Math.round(b.mfu() * 1000) / 1000.0);
            r.put("peak_rss_mb", ProcessMemory.peakRssBytes().orElse(-1) >> 20);
        }
        Optional<JsonNode> ref = peer.run("bench_transformers.py", List.of("--model", model.toString(),
                "--batch", "" + s.batch(), "--seq", "" + s.seq(), "--gen-prompt", "" + s.genPrompt(),
                "--gen-tokens", "" + s.genTokens(), "--threads", "2", "--iters", "" + iterations),
                "bench forward", "transformers", status);
        if (ref.isPresent()) {
            for (String key : List.of("forward_tokens_per_s", "generate_tokens_per_s",
                    "generate_nocache_tokens_per_s")) {
                double theirs = ref.get().get(key).asDouble();
                r.put("transformers_" + key, round(theirs));
                r.put("ratio_" + key.replace("_tokens_per_s", ""), round(((Number) r.get(key)).doubleValue() / theirs));
            }
        }
        return r;
    }

    /** Runs every measurement {@code iterations} times after one warm-up and keeps the median. */
    public static Result run(CausalLM model, Shapes s, int iterations) {
        double matmul = matmulGflops(model.manager(), iterations);
        double forwardSeconds = Medians.timed(iterations, () -> timeForward(model, s));
        Generator generator = new Generator(model);
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(s.genTokens())
                .optEosTokenIds(List.of(-1)).build();
        int[][] prompts = randomIds(s.batch(), s.genPrompt(), model.config().vocabSize(), 2);
        double genSeconds = Medians.timed(iterations, () -> generator.generateIds(prompts, greedy, TokenListener.NONE).nanos() / 1e9);
        double noCacheSeconds = Medians.timed(iterations, () -> generator.generateIds(prompts, greedy.withKvCache(false),
                TokenListener.NONE).nanos() / 1e9);
        double gflop = forwardFlops(model.config(), s.batch(), s.seq()) / 1e9;
        double newTokens = (double) s.batch() * s.genTokens();
        return new Result(s.batch() * s.seq() / forwardSeconds, newTokens / genSeconds, newTokens / noCacheSeconds,
                matmul, gflop, gflop / forwardSeconds / matmul);
    }

    /**
     * The process's peak resident memory ({@code VmHWM}, bytes; -1 off Linux) after prefilling one seeded random
     * prompt of {@code promptTokens} tokens and generating one token: what {@code generate} needs for such a prompt.
     * Call it before anything else that allocates, so the peak is the prompt's and not an earlier step's.
     */
    public static long prefillPeakRss(CausalLM model, int promptTokens) {
        GenerationConfig one = GenerationConfig.builder().optMaxNewTokens(1).optEosTokenIds(List.of(-1)).build();
        new Generator(model).generateIds(randomIds(1, promptTokens, model.config().vocabSize(), 3), one,
                TokenListener.NONE);
        return ProcessMemory.peakRssBytes().orElse(-1);
    }

    /** FLOPs of one forward: 2·tokens·(projection weights + lm_head) + 4·B·T²·heads·headDim per layer. */
    public static double forwardFlops(ModelConfig c, int batch, int seq) {
        double tokens = (double) batch * seq;
        double h = c.hiddenSize();
        double q = (double) c.numHeads() * c.headDim();
        double kv = (double) c.numKvHeads() * c.headDim();
        double perLayer = h * q + 2 * h * kv + q * h + 3 * h * c.intermediateSize();
        double linear = 2 * tokens * (c.numLayers() * perLayer + h * c.vocabSize());
        double attention = 4.0 * batch * seq * (double) seq * q * c.numLayers();
        return linear + attention;
    }

    /** fp32 {@code x·Wᵀ} GFLOP/s on a [2048, 1024] × [1024, 1024]ᵀ GEMM, median of {@code iterations}. */
    public static double matmulGflops(NDManager parent, int iterations) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.randomUniform(-1, 1, new Shape(2048, 1024));
            NDArray w = m.randomUniform(-1, 1, new Shape(1024, 1024));
            double seconds = Medians.timed(iterations, () -> {
                try (NDScope scope = new NDScope()) {
                    long t0 = System.nanoTime();
                    Linear.linear(x, w).singletonOrThrow().sum().getFloat();
                    return (System.nanoTime() - t0) / 1e9;
                }
            });
            return 2.0 * 2048 * 1024 * 1024 / seconds / 1e9;
        }
    }

    private static double timeForward(CausalLM model, Shapes s) {
        int[][] ids = randomIds(s.batch(), s.seq(), model.config().vocabSize(), 1);
        long[] flat = Arrays.stream(ids).flatMapToInt(Arrays::stream).asLongStream().toArray();
        try (Inference.Scope inference = Inference.enter(); NDManager m = model.manager().newSubManager();
             NDScope scope = new NDScope()) {   // inference only, as transformers' peer runs under no_grad
            NDArray input = m.create(flat, new Shape(s.batch(), s.seq()));
            long t0 = System.nanoTime();
            model.forward(input, null, null).get(0, 0, 0).getFloat();
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static int[][] randomIds(int rows, int cols, int vocab, long seed) {
        Random rng = new Random(seed);
        int[][] ids = new int[rows][cols];
        for (int[] row : ids) {
            for (int i = 0; i < cols; i++) {
                row[i] = rng.nextInt(vocab);
            }
        }
        return ids;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
