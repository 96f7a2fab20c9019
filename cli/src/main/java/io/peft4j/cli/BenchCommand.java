package io.peft4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code peft4j bench <name>}: end-to-end benchmarks that print ratios measured in one run
 * (e.g. our step time against a plain matMul roofline on the same machine). Each benchmark is a subcommand.
 */
@Command(name = "bench", description = "Benchmarks that print ratios measured in one run.",
        subcommands = {BenchAdapterLoadCommand.class, BenchDataCommand.class, BenchDequantCommand.class, BenchForwardCommand.class,
                BenchTrainCommand.class, BenchMixedCommand.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }
}
