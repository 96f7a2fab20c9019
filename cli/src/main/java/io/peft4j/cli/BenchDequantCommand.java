package io.peft4j.cli;

import io.peft4j.bench.DequantBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code peft4j bench dequant}: {@link DequantBenchmark}, NF4 (+ double quant) dequantization elements/s against a
 * copy of the same fp32 output and, with a model, the nf4 model's forward time against the fp32 model's.
 */
@Command(name = "dequant", description = "NF4 dequantization elements/s vs an fp32 copy; nf4 vs fp32 forward time.")
final class BenchDequantCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--rows", defaultValue = "4096", description = "Weight rows (default 4096).")
    int rows;

    @Option(names = "--cols", defaultValue = "4096", description = "Weight columns (default 4096).")
    int cols;

    @Option(names = "--iterations", defaultValue = "7", description = "Timed rounds after 2 warm-up rounds; medians "
            + "and the median per-round ratio are reported (default 7).")
    int iterations;

    @Option(names = "--model", description = "Model for the forward comparison (default: $PEFT4J_TEST_MODEL or "
            + "~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf if present; 'none' to skip).")
    String model;

    @Option(names = "--tokens", defaultValue = "128", description = "Sequence length of the forward comparison.")
    int tokens;

    @Override
    public Integer call() throws Exception {
        out.print(DequantBenchmark.report(rows, cols, iterations, model, tokens, out::status));
        return 0;
    }
}
