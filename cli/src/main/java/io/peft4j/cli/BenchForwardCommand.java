package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.generate.ForwardBenchmark;
import io.peft4j.core.model.llama.LlamaModel;
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
 * {@code peft4j bench forward --model PATH --batch 4 --seq 256}: forward and generation throughput, this CPU's
 * fp32 GEMM roofline and MFU, then the same shapes in transformers (scripts/interop/bench_transformers.py with
 * the reference venv, 2 threads) and the ratios peft4j / transformers.
 */
@Command(name = "forward", description = "Forward and generation tokens/s, GEMM GFLOP/s, MFU, ratio to transformers.")
final class BenchForwardCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--batch", defaultValue = "4")
    int batch;

    @Option(names = "--seq", defaultValue = "256")
    int seq;

    @Option(names = "--gen-prompt", defaultValue = "32", description = "Prompt tokens before generation.")
    int genPrompt;

    @Option(names = "--gen-tokens", defaultValue = "32", description = "New tokens per generation.")
    int genTokens;

    @Option(names = "--iters", defaultValue = "3", description = "Timed runs per measurement (median).")
    int iters;

    @Option(names = "--python", description = "Reference python (default ~/.cache/peft4j/venv/bin/python).")
    Path python;

    @Option(names = "--no-reference", description = "Skip the transformers measurement.")
    boolean noReference;

    @Override
    public Integer call() throws Exception {
        ForwardBenchmark.Shapes shapes = new ForwardBenchmark.Shapes(batch, seq, genPrompt, genTokens);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", "forward");
        try (Checkpoint ckpt = Checkpoints.open(model);
             NDManager manager = Peft4j.newManager();
             LlamaModel lm = LlamaModel.load(ckpt.config(), ckpt.tensors(), manager)) {
            long prefillPeak = ForwardBenchmark.prefillPeakRss(lm, seq) >> 20;   // first: nothing else has peaked yet
            out.status("bench forward: peak RSS " + prefillPeak + " MB after a " + seq + "-token prompt");
            out.status("bench forward: measuring peft4j (batch " + batch + ", seq " + seq + ") ...");
            ForwardBenchmark.Result b = ForwardBenchmark.run(lm, shapes, iters);
            r.put("prefill_peak_rss_mb", prefillPeak);
            r.put("batch", batch);
            r.put("seq", seq);
            r.put("forward_tokens_per_s", round(b.forwardTokensPerS()));
            r.put("generate_tokens_per_s", round(b.generateTokensPerS()));
            r.put("generate_nocache_tokens_per_s", round(b.generateNoCacheTokensPerS()));
            r.put("matmul_gflops", round(b.matmulGflops()));
            r.put("forward_gflop", round(b.forwardGflop()));
            r.put("mfu", Math.round(b.mfu() * 1000) / 1000.0);
            r.put("peak_rss_mb", ProcessMemory.peakRssBytes().orElse(-1) >> 20);
        }
        JsonNode ref = noReference ? null : reference();
        if (ref != null) {
            for (String key : List.of("forward_tokens_per_s", "generate_tokens_per_s", "generate_nocache_tokens_per_s")) {
                double theirs = ref.get(key).asDouble();
                r.put("transformers_" + key, round(theirs));
                r.put("ratio_" + key.replace("_tokens_per_s", ""), round(((Number) r.get(key)).doubleValue() / theirs));
            }
        }
        out.print(r);
        return 0;
    }

    /** Runs bench_transformers.py on the same shapes; null (with a status line) when it cannot run. */
    private JsonNode reference() throws IOException, InterruptedException {
        Path py = python != null ? python
                : Paths.get(System.getProperty("user.home"), ".cache", "peft4j", "venv", "bin", "python");
        Path script = findScript();
        if (!Files.isExecutable(py) || script == null) {
            out.status("bench forward: no transformers reference (python " + py + ", script " + script + ")");
            return null;
        }
        out.status("bench forward: measuring transformers with " + py + " ...");
        List<String> cmd = new ArrayList<>(List.of(py.toString(), script.toString(), "--model", model.toString(),
                "--batch", "" + batch, "--seq", "" + seq, "--gen-prompt", "" + genPrompt, "--gen-tokens", "" + genTokens,
                "--threads", "2", "--iters", "" + iters));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || stdout.isBlank()) {
            out.status("bench forward: transformers reference failed (exit " + p.exitValue() + ")");
            return null;
        }
        String[] lines = stdout.strip().split("\n");
        return Json.MAPPER.readTree(lines[lines.length - 1]);
    }

    private static Path findScript() {
        for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("scripts/interop/bench_transformers.py");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        return null;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
