package io.peft4j.cli;

import io.peft4j.bench.ServeBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench serve --model PATH --clients 16 --adapters 4 --duration 120}: {@link ServeBenchmark}, a load
 * test of the OpenAI-compatible server with a greedy correctness check of every answer.
 */
@Command(name = "serve", description = "Load test of the OpenAI-compatible server (concurrent clients, adapters + base).")
final class BenchServeCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--adapters", defaultValue = "4", description = "Random LoRA adapters served beside the base "
            + "(default ${DEFAULT-VALUE}).")
    int adapters;

    @Option(names = "--duration", defaultValue = "120", description = "Seconds of concurrent load (default "
            + "${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--max-tokens", defaultValue = "24", description = "Tokens per completion (default "
            + "${DEFAULT-VALUE}).")
    int maxTokens;

    @Override
    public Integer call() throws Exception {
        out.print(ServeBenchmark.report(model, clients, adapters, seconds, maxTokens, out::status));
        return 0;
    }
}
