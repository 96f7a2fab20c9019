package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.TokenCrossEntropy;
import io.peft4j.core.train.CrossEntropyObjective;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import io.peft4j.prompt.PromptLearningConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Adapter training throughput (LoRA, or a soft prompt: prompt tuning, prefix tuning) on random tokens: median optimizer-step time over {@code steps} timed steps (after one
 * warm-up), tokens/s, and model FLOPs utilisation against the fp32 GEMM peak measured in the same run. Training
 * FLOPs are counted as 2 × forward (the forward plus the activation gradients; LoRA's own weight gradients are
 * negligible), as is usual for frozen-base fine-tuning. {@link #report} is {@code peft4j bench train}: the same on a
 * model file, then the same configuration with PEFT + torch ({@code scripts/interop/bench_peft.py}) and the ratio of
 * step times.
 *
 * <pre>{@code
 * TrainBenchmark.Result r = TrainBenchmark.run(model, LoraConfig.builder().optR(16)
 *         .optTargetModules(TargetModules.ALL_LINEAR).build(), 4, 256, 3, false);
 * double mfu = r.mfu();
 * }</pre>
 */
public final class TrainBenchmark {
    private TrainBenchmark() {
    }

    /**
     * @param stepSeconds  median seconds per optimizer step
     * @param tokensPerS   batch × seq / stepSeconds
     * @param gflopPerStep counted training GFLOP of one step
     * @param matmulGflops fp32 GEMM GFLOP/s of this machine, same run (the higher of a reading before and after)
     * @param mfu          gflopPerStep / stepSeconds / matmulGflops
     * @param trainable    trainable parameters
     */
    public record Result(double stepSeconds, double tokensPerS, double gflopPerStep, double matmulGflops, double mfu,
                         long trainable) {
    }

    /**
     * The shapes of one training bench: {@code steps} timed steps of {@code [batch, seq]}, optionally checkpointed.
     *
     * @param lossChunk lm_head rows per chunk of the fused loss ({@link CrossEntropyObjective#withChunkSize}); 0 =
     *                  full logits (the unfused path)
     * @param data      instruction data (JSON/JSONL records) rendered by {@code template}, prompt tokens masked and
     *                  packed into rows of {@code seq} tokens; null = random tokens, every token trained
     * @param template  built-in template name or {@code chat} (used with {@code data})
     */
    public record Shapes(int batch, int seq, int steps, boolean checkpointActivations, int lossChunk, Path data,
                         String template) {
        public Shapes {
            if (batch < 1 || seq < 1 || steps < 1) {
                throw new IllegalArgumentException("batch, seq and steps must be >= 1: batch " + batch + ", seq " + seq
                        + ", steps " + steps);
            }
            if (lossChunk < 0) {
                throw new IllegalArgumentException("loss chunk must be >= 0, got " + lossChunk);
            }
        }

        /** Random tokens, default loss chunk. */
        public Shapes(int batch, int seq, int steps, boolean checkpointActivations) {
            this(batch, seq, steps, checkpointActivations, TokenCrossEntropy.DEFAULT_CHUNK, null, null);
        }
    }

    /**
     * {@code peft4j bench train}: loads {@code model}, measures LoRA training ({@link #run}) and, unless {@code peer}
     * is {@link PeerScript#NONE}, PEFT + torch on the same configuration (2 threads); returns the {@code --json} keys
     * ({@code peak_rss_mb} is this process's, model load included).
     */
    public static Map<String, Object> report(Path model, AdapterConfig config, Shapes s, PeerScript peer,
                                             Consumer<String> status) throws Exception {
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train");
        try (BenchModel base = BenchModel.open(model)) {
            int rowsNeeded = s.batch() * PeerBlocks.batchesNeeded(s.steps());
            List<Example> data = s.data() == null ? randomData(base.model(), rowsNeeded, s.seq())
                    : InstructionRows.packed(base.checkpoint(), s.data(), s.template(), s.seq(), rowsNeeded);
            // instruction data: PEFT trains on the very rows peft4j trains on (ids, labels with -100, positions)
            Path rows = s.data() == null ? null : writeRows(data);
            List<String> args = peerArgs(model, config, s);
            if (rows != null) {
                args.addAll(List.of("--rows", rows.toString()));
            }
            args.add("--alternate");
            // PEFT loads and warms up first (nothing of ours runs meanwhile), then blocks of steps alternate
            Optional<PeerScript.Session> session = peer.start("bench_peft.py", args, "bench train", "PEFT", status);
            try {
                status.accept("bench train: peft4j " + label(config) + ", batch " + s.batch() + ", seq " + s.seq()
                        + (session.isPresent() ? ", blocks of " + PeerBlocks.BLOCK + " steps alternating with PEFT's"
                        : "") + " ...");
                PeerBlocks plan = new PeerBlocks(session.orElse(null), s.steps(), status);
                Result b = run(base.model(), config, s, data, plan);
                res.put("batch", s.batch());
                res.put("seq", s.seq());
                res.put("data", s.data() == null ? "random" : s.data().getFileName().toString());
                res.put("trained_token_share", round(trainedShare(data)));
                res.put("loss_chunk", s.lossChunk());
                res.put("method", config.peftType());
                if (config instanceof LoraConfig lora) {
                    res.put("r", lora.r());
                } else if (config instanceof PromptLearningConfig prompt) {
                    res.put("num_virtual_tokens", prompt.numVirtualTokens());
                }
                res.put("trainable_params", b.trainable());
                res.put("step_s", round(b.stepSeconds()));
                res.put("tokens_per_s", round(b.tokensPerS()));
                res.put("gflop_per_step", round(b.gflopPerStep()));
                res.put("matmul_gflops", round(b.matmulGflops()));
                res.put("mfu", Math.round(b.mfu() * 1000) / 1000.0);
                res.put("gradient_checkpointing", s.checkpointActivations());
                res.put("peak_rss_mb", ProcessMemory.peakRssBytes().isPresent()
                        ? ProcessMemory.peakRssBytes().getAsLong() / (1024 * 1024) : null);
                res.put("allocator", ProcessMemory.allocator());
                Optional<Double> theirs = plan.peerMedianSeconds();
                Optional<JsonNode> summary = plan.finish();
                if (theirs.isPresent() && summary.isPresent()) {
                    putPeer(res, theirs.get(), summary.get());
                    res.put("peft_allocator", peer.allocator());
                }
            } finally {
                session.ifPresent(PeerScript.Session::close);
                if (rows != null) {
                    java.nio.file.Files.deleteIfExists(rows);
                }
            }
        }
        return res;
    }

    /** PEFT's keys (its timed steps' median {@code theirs}, its summary {@code ref}) and the ratios against ours. */
    private static void putPeer(Map<String, Object> res, double theirs, JsonNode ref) {
        res.put("peft_step_s", round(theirs));
        res.put("peft_tokens_per_s", round((Integer) res.get("batch") * (Integer) res.get("seq") / theirs));
        res.put("peft_steps_alternated", true);
        res.put("ratio_step_time", round((Double) res.get("step_s") / theirs));
        Long theirRss = ref.path("peak_rss_mb").isNumber() ? ref.get("peak_rss_mb").asLong() : null;
        res.put("peft_peak_rss_mb", theirRss);
        if (theirRss != null && res.get("peak_rss_mb") instanceof Long ours) {
            res.put("ratio_peak_rss", round((double) ours / theirRss));
        }
    }

    /**
     * {@code rows} as bench_peft.py's {@code --rows} file: one JSON object per row with {@code ids}, {@code labels}
     * (-100 where peft4j trains nothing, including the first token of each packed sequence) and {@code positions}.
     */
    private static Path writeRows(List<Example> rows) throws IOException {
        List<Map<String, int[]>> out = new ArrayList<>();
        for (Example e : rows) {
            int[] labels = e.labels().clone();
            for (int t = 0; t < labels.length; t++) {
                if (t > 0 && e.attentionMask()[t] != e.attentionMask()[t - 1] || e.attentionMask()[t] == 0) {
                    labels[t] = Example.IGNORE;
                }
            }
            out.add(Map.of("ids", e.inputIds(), "labels", labels, "positions", e.positionIds()));
        }
        Path file = java.nio.file.Files.createTempFile("peft4j-bench-rows", ".json");
        io.peft4j.core.Json.MAPPER.writeValue(file.toFile(), out);
        return file;
    }

    /** {@code target_modules} as the command line spells it: a comma list, {@code all-linear} or {@code re:REGEX}. */
    static String describe(TargetModules t) {
        if (t == null) {
            return "q_proj,v_proj";
        }
        return t.names() != null ? String.join(",", t.names()) : t.isAllLinear() ? "all-linear" : "re:" + t.regex();
    }

    /** One status-line description of the adapter: LoRA's rank and targets, or the soft prompt's method and size. */
    static String label(AdapterConfig config) {
        if (config instanceof LoraConfig lora) {
            return "LoRA r=" + lora.r() + " " + describe(lora.targetModules());
        }
        if (config instanceof PromptLearningConfig prompt) {
            return config.peftType() + " " + prompt.numVirtualTokens() + " virtual tokens";
        }
        return config.peftType();
    }

    /** bench_peft.py's arguments for the same adapter configuration and shapes. */
    static List<String> peerArgs(Path model, AdapterConfig adapter, Shapes s) {
        return peerArgs(List.of("--model", model.toString()), adapter, s);
    }

    /** bench_peft.py's arguments: {@code modelArgs} (the model file or a synthetic shape), adapter and shapes. */
    static List<String> peerArgs(List<String> modelArgs, AdapterConfig adapter, Shapes s) {
        List<String> args = new ArrayList<>(modelArgs);
        args.addAll(List.of("--batch", "" + s.batch(), "--seq", "" + s.seq(), "--steps", "" + s.steps(),
                "--threads", "2"));
        if (adapter instanceof PromptLearningConfig prompt) {
            args.addAll(List.of("--method", adapter.peftType().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
                    "--num-virtual-tokens", "" + prompt.numVirtualTokens()));
            return args;
        }
        LoraConfig config = (LoraConfig) adapter;
        TargetModules t = config.targetModules();
        args.addAll(List.of("--r", "" + config.r(), "--alpha", "" + config.loraAlpha(),
                "--dropout", "" + config.loraDropout()));
        args.addAll(t.names() != null || t.isAllLinear() ? List.of("--target-modules", describe(t))
                : List.of("--target-regex", t.regex()));
        if (config.useRslora()) {
            args.add("--use-rslora");
        }
        if (config.useDora()) {
            args.add("--use-dora");
        }
        if (s.checkpointActivations()) {
            args.add("--gradient-checkpointing");
        }
        return args;
    }

    /**
     * Attaches {@code config} to {@code model}, trains {@code steps + 1} steps of [batch, seq] (with activation
     * checkpointing when {@code checkpointActivations}) and detaches it.
     */
    public static Result run(CausalLM model, AdapterConfig config, int batch, int seq, int steps,
                             boolean checkpointActivations) throws PeftException {
        return run(model, config, new Shapes(batch, seq, steps, checkpointActivations),
                randomData(model, batch * (steps + 1), seq));
    }

    /** {@link #run(CausalLM, AdapterConfig, int, int, int, boolean)} on {@code data} with the loss chunk of {@code s}. */
    public static Result run(CausalLM model, AdapterConfig config, Shapes s, List<Example> data) throws PeftException {
        return run(model, config, s, data, new PeerBlocks(null, s.steps(), status -> { }));
    }

    /**
     * As {@link #run(CausalLM, AdapterConfig, Shapes, List)} on the steps of {@code plan}: only its timed steps are
     * counted, and the peer's blocks it runs after our steps are not counted in ours.
     */
    static Result run(CausalLM model, AdapterConfig config, Shapes s, List<Example> data, PeerBlocks plan)
            throws PeftException {
        int batch = s.batch();
        int seq = s.seq();
        double matmulBefore = ForwardBenchmark.matmulGflops(model.manager(), 3);
        List<Double> times = new ArrayList<>();
        long trainable;
        try (PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, config, 1L);
            trainable = peft.trainableParameterCount();
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(plan.ourSteps()).optBatchSize(batch)
                    .optShuffle(false).optLearningRate(1e-4).optActivationCheckpointing(s.checkpointActivations())
                    .build();
            try (Trainer t = new Trainer(peft, cfg, CrossEntropyObjective.withChunkSize(s.lossChunk()))) {
                t.addListener(new TrainingListener() {
                    private double last;

                    @Override
                    public void onStep(StepMetrics m) {
                        if (plan.timed(m.step())) {
                            times.add(m.elapsedSeconds() - last);
                        }
                        long outside = System.nanoTime();
                        plan.afterStep(m.step());
                        last = m.elapsedSeconds() + (System.nanoTime() - outside) / 1e9;
                    }
                });
                t.train(data, null);
            }
        }
        double step = Medians.upper(times.stream().mapToDouble(Double::doubleValue).toArray());
        // the GEMM peak is read before and after training and the higher reading kept: one reading taken right after
        // the model load once came out at 68 instead of ~160 GFLOP/s and made the MFU exceed 1
        double matmul = Math.max(matmulBefore, ForwardBenchmark.matmulGflops(model.manager(), 3));
        double gflop = 2 * ForwardBenchmark.forwardFlops(model.config(), batch, seq) / 1e9;
        return new Result(step, batch * seq / step, gflop, matmul, gflop / step / matmul, trainable);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** Share of the rows' tokens that are trained (labels not ignored). */
    private static double trainedShare(List<Example> data) {
        long all = 0;
        long trained = 0;
        for (Example e : data) {
            for (int label : e.labels()) {
                all++;
                trained += label == Example.IGNORE ? 0 : 1;
            }
        }
        return all == 0 ? 0 : (double) trained / all;
    }

    /** {@code n} seeded random sequences of {@code seq} token ids, every token trained. */
    static List<Example> randomData(CausalLM model, int n, int seq) {
        Random rng = new Random(1);
        List<Example> data = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[seq];
            for (int t = 0; t < seq; t++) {
                ids[t] = rng.nextInt(model.config().vocabSize());
            }
            data.add(Example.unmasked(ids));
        }
        return data;
    }
}
