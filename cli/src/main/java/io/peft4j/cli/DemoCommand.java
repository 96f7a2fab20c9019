package io.peft4j.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code peft4j demo}: the main job on the embedded default, no arguments needed. */
@Command(name = "demo", description = "Run peft4j's main job end to end on the default test model.")
final class DemoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println("peft4j demo: the end-to-end job is not wired yet. When it is, this command will:");
        System.out.println("  1. load SmolLM2-135M-Instruct (scripts/fetch-test-models.sh) and quantize it to NF4,");
        System.out.println("  2. attach a LoRA adapter and train it for a few steps on GSM8K-style records,");
        System.out.println("  3. save the adapter in PEFT's layout and show the answer before and after.");
        return 0;
    }
}
