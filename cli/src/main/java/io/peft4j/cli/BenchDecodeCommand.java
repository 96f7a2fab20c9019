package io.peft4j.cli;

import io.peft4j.bench.DecodeBenchmark;
import io.peft4j.bench.PeerScript;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench decode --model PATH}: {@link DecodeBenchmark}, single-stream decode tokens/s and peak RSS for a
 * 256-token prompt + 64 greedy tokens, against the same model in fp32 and, when llama-cpp-python is in the reference
 * venv, llama.cpp on the same GGUF, prompt, threads and tokens.
 */
@Command(name = "decode", description = "Decode tokens/s and peak RSS, ratio to fp32 and to llama.cpp.")
final class BenchDecodeCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--prompt-tokens", defaultValue = "256", description = "Prompt tokens (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "64", description = "Greedy new tokens (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--iters", defaultValue = "3", description = "Timed runs per measurement (median).")
    int iters;

    @Option(names = "--python", description = "Reference python (default ~/.cache/peft4j/venv/bin/python).")
    Path python;

    @Option(names = "--no-reference", description = "Skip the llama.cpp measurement.")
    boolean noReference;

    @Override
    public Integer call() throws Exception {
        DecodeBenchmark.Settings s = new DecodeBenchmark.Settings(promptTokens, newTokens, iters);
        out.print(DecodeBenchmark.report(model, s, noReference ? PeerScript.NONE : PeerScript.of(python),
                out::status));
        return 0;
    }
}
