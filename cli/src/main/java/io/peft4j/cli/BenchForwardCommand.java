package io.peft4j.cli;

import io.peft4j.bench.ForwardBenchmark;
import io.peft4j.bench.PeerScript;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench forward --model PATH --batch 4 --seq 256}: {@link ForwardBenchmark}, forward and generation
 * throughput, this CPU's fp32 GEMM roofline and MFU, then the same shapes in transformers and the ratios.
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
        out.print(ForwardBenchmark.report(model, shapes, iters, noReference ? PeerScript.NONE : PeerScript.of(python),
                out::status));
        return 0;
    }
}
