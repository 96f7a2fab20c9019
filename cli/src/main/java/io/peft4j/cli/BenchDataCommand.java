package io.peft4j.cli;

import io.peft4j.bench.DataBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code peft4j bench data}: {@link DataBenchmark}, records per second to load, render and tokenize a dataset. */
@Command(name = "data", description = "Records/s to load + render + tokenize a dataset (default: Alpaca 5000).")
final class BenchDataCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--data", description = "Dataset (default: $PEFT4J_SHARED/datasets/alpaca-subset/alpaca_5000.json).")
    Path data;

    @Option(names = "--tokenizer", description = "tokenizer.json or folder (default: $PEFT4J_SHARED/tokenizers/llama2-32k).")
    Path tokenizer;

    @Option(names = "--template", defaultValue = "alpaca", description = "Built-in template (default alpaca).")
    String template;

    @Override
    public Integer call() throws Exception {
        out.print(DataBenchmark.report(data, tokenizer, template));
        return 0;
    }
}
