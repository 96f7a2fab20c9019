package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.CheckpointingBenchmark;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import io.peft4j.lora.TrainBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench train --model PATH --method lora --batch 4 --seq 256 --r 16 --target-modules all-linear}:
 * LoRA training step time, tokens/s and MFU against this CPU's GEMM peak, then the same configuration with PEFT +
 * torch (scripts/interop/bench_peft.py, reference venv, 2 threads) and the ratio of step times. With
 * {@code --gradient-checkpointing} both sides recompute activations; {@code peak_rss_mb} (this process, model load
 * included) shows the memory effect when compared with a run without it. {@code --compare-checkpointing} instead
 * measures both modes in this one process ({@link CheckpointingBenchmark}) and prints the ratio.
 */
@Command(name = "train", description = "LoRA training step time, tokens/s, MFU; ratio to PEFT + torch.")
final class BenchTrainCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--method", defaultValue = "lora", description = "lora")
    String method;

    @Option(names = "--batch", defaultValue = "4")
    int batch;

    @Option(names = "--seq", defaultValue = "256")
    int seq;

    @Option(names = "--r", defaultValue = "16")
    int r;

    @Option(names = "--alpha", defaultValue = "32")
    double alpha;

    @Option(names = "--target-modules", defaultValue = "all-linear", description = "Comma list or all-linear.")
    String targets;

    @Option(names = "--steps", defaultValue = "3", description = "Timed steps (median), after one warm-up.")
    int steps;

    @Option(names = "--gradient-checkpointing", description = "Activation checkpointing (peft4j and PEFT).")
    boolean gradientCheckpointing;

    @Option(names = "--compare-checkpointing", description = "Only compare peft4j with and without activation "
            + "checkpointing in this process (alternating steps; peak RSS per mode).")
    boolean compareCheckpointing;

    @Option(names = "--python", description = "Reference python (default ~/.cache/peft4j/venv/bin/python).")
    Path python;

    @Option(names = "--no-reference", description = "Skip the PEFT measurement.")
    boolean noReference;

    @Override
    public Integer call() throws Exception {
        if (!"lora".equalsIgnoreCase(method)) {
            throw new IllegalArgumentException("bench train --method " + method + " is not available (lora)");
        }
        TargetModules t = TargetModules.parse(targets);
        LoraConfig config = LoraConfig.builder().optR(r).optLoraAlpha(alpha).optTargetModules(t).build();
        if (compareCheckpointing) {
            return compare(config);
        }
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train");
        try (Checkpoint ckpt = Checkpoints.open(model);
             NDManager manager = Peft4j.newManager();
             LlamaModel lm = LlamaModel.load(ckpt.config(), ckpt.tensors(), manager)) {
            out.status("bench train: peft4j LoRA r=" + r + " " + targets + ", batch " + batch + ", seq " + seq + " ...");
            TrainBenchmark.Result b = TrainBenchmark.run(lm, config, batch, seq, steps,
                    gradientCheckpointing);
            res.put("batch", batch);
            res.put("seq", seq);
            res.put("r", r);
            res.put("trainable_params", b.trainable());
            res.put("step_s", round(b.stepSeconds()));
            res.put("tokens_per_s", round(b.tokensPerS()));
            res.put("gflop_per_step", round(b.gflopPerStep()));
            res.put("matmul_gflops", round(b.matmulGflops()));
            res.put("mfu", Math.round(b.mfu() * 1000) / 1000.0);
            res.put("gradient_checkpointing", gradientCheckpointing);
            res.put("peak_rss_mb", ProcessMemory.peakRssBytes().isPresent()
                    ? ProcessMemory.peakRssBytes().getAsLong() / (1024 * 1024) : null);
        }
        JsonNode ref = noReference ? null : reference();
        if (ref != null) {
            double theirs = ref.get("step_s").asDouble();
            res.put("peft_step_s", round(theirs));
            res.put("peft_tokens_per_s", round(ref.get("tokens_per_s").asDouble()));
            res.put("ratio_step_time", round((Double) res.get("step_s") / theirs));
            res.put("peft_peak_rss_mb", ref.path("peak_rss_mb").isNumber() ? ref.get("peak_rss_mb").asLong() : null);
        }
        out.print(res);
        return 0;
    }

    private int compare(LoraConfig config) throws Exception {
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train_checkpointing");
        try (Checkpoint ckpt = Checkpoints.open(model);
             NDManager manager = Peft4j.newManager();
             LlamaModel lm = LlamaModel.load(ckpt.config(), ckpt.tensors(), manager)) {
            out.status("bench train: peft4j LoRA r=" + r + " " + targets + ", batch " + batch + ", seq " + seq
                    + ", steps alternating with/without activation checkpointing ...");
            CheckpointingBenchmark.Result b = CheckpointingBenchmark.run(lm, config, batch, seq, steps);
            res.put("batch", batch);
            res.put("seq", seq);
            res.put("r", r);
            res.put("step_s", round(b.stepSeconds()));
            res.put("step_s_checkpointing", round(b.checkpointedStepSeconds()));
            res.put("ratio_step_time_checkpointing", round(b.checkpointedStepSeconds() / b.stepSeconds()));
            res.put("peak_rss_mb", b.peakRssBytes() < 0 ? null : b.peakRssBytes() >> 20);
            res.put("peak_rss_mb_checkpointing", b.checkpointedPeakRssBytes() < 0 ? null
                    : b.checkpointedPeakRssBytes() >> 20);
        }
        out.print(res);
        return 0;
    }

    private JsonNode reference() throws IOException, InterruptedException {
        Path py = python != null ? python
                : Paths.get(System.getProperty("user.home"), ".cache", "peft4j", "venv", "bin", "python");
        Path script = null;
        for (Path d = Paths.get("").toAbsolutePath(); d != null && script == null; d = d.getParent()) {
            Path s = d.resolve("scripts/interop/bench_peft.py");
            script = Files.isRegularFile(s) ? s : null;
        }
        if (!Files.isExecutable(py) || script == null) {
            out.status("bench train: no PEFT reference (python " + py + ", script " + script + ")");
            return null;
        }
        out.status("bench train: measuring PEFT + torch with " + py + " ...");
        List<String> cmd = new ArrayList<>(List.of(py.toString(), script.toString(), "--model", model.toString(),
                "--batch", "" + batch, "--seq", "" + seq, "--r", "" + r, "--alpha", "" + alpha, "--target-modules",
                targets, "--steps", "" + steps, "--threads", "2"));
        if (gradientCheckpointing) {
            cmd.add("--gradient-checkpointing");
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || stdout.isBlank()) {
            out.status("bench train: PEFT reference failed (exit " + p.exitValue() + ")");
            return null;
        }
        String[] lines = stdout.strip().split("\n");
        return Json.MAPPER.readTree(lines[lines.length - 1]);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
