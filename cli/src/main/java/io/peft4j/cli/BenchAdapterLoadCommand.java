package io.peft4j.cli;

import io.peft4j.bench.AdapterLoadBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench adapter-load --model PATH [--r 8]}: {@link AdapterLoadBenchmark}, the warm load time of a
 * LoRA adapter on {@code q_proj}/{@code v_proj} and the time to switch between two loaded adapters.
 */
@Command(name = "adapter-load", description = "Warm load time of a q,v LoRA adapter and adapter switch time (medians).")
final class BenchAdapterLoadCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--r", defaultValue = "8", description = "LoRA rank (default ${DEFAULT-VALUE}).")
    int r;

    @Option(names = "--loads", defaultValue = "30", description = "Timed loads after 5 warm-ups (default ${DEFAULT-VALUE}).")
    int loads;

    @Option(names = "--switches", defaultValue = "2000", description = "Timed switches (default ${DEFAULT-VALUE}).")
    int switches;

    @Override
    public Integer call() throws Exception {
        if (r < 1 || loads < 1 || switches < 1) {
            throw new IllegalArgumentException("--r, --loads and --switches must be >= 1 (see peft4j bench adapter-load --help)");
        }
        out.print(AdapterLoadBenchmark.report(model, AdapterLoadBenchmark.qv(r), loads, switches, out::status));
        return 0;
    }
}
