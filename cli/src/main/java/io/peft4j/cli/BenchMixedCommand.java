package io.peft4j.cli;

import io.peft4j.bench.MixedBatchBenchmark;
import io.peft4j.lora.InitLoraWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench mixed --model PATH --adapters 4 --seq 128}: {@link MixedBatchBenchmark}, one batch whose rows
 * use different LoRA adapters (random init, so every delta is non-zero) against one run per adapter, and against a
 * batch with a single adapter (the cost of mixing).
 */
@Command(name = "mixed", description = "Mixed-adapter batch vs one run per adapter (prefill and generation).",
        defaultValueProvider = LoraOptions.BenchDefaults.class)
final class BenchMixedCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--adapters", defaultValue = "4", description = "Adapters, one per batch row (default ${DEFAULT-VALUE}).")
    int adapters;

    @Option(names = "--seq", defaultValue = "128", description = "Prompt tokens per row (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--new-tokens", defaultValue = "16", description = "Generated tokens per row (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Mixin
    LoraOptions lora;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs (median), after one warm-up.")
    int repeats;

    @Override
    public Integer call() throws Exception {
        out.print(MixedBatchBenchmark.report(model, lora.builder().optInitLoraWeights(InitLoraWeights.RANDOM).build(),
                adapters, seq, newTokens, repeats, out::status));
        return 0;
    }
}
