package io.peft4j.cli;

import io.peft4j.bench.CheckpointingBenchmark;
import io.peft4j.bench.PeerScript;
import io.peft4j.bench.PreferenceBenchmark;
import io.peft4j.bench.SyntheticTrainBenchmark;
import io.peft4j.bench.TrainBenchmark;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.lora.LoraConfig;
import io.peft4j.prompt.PrefixTuningConfig;
import io.peft4j.prompt.PromptTuningConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench train --model PATH --method lora --batch 4 --seq 256 --r 16 --target-modules all-linear}:
 * {@link TrainBenchmark}, LoRA training step time, tokens/s and MFU, then PEFT + torch on the same configuration
 * and the ratios of step times and peak RSS; {@code --method prompt-tuning | prefix-tuning} does the same for a soft
 * prompt of {@code --num-virtual-tokens}. With {@code --gradient-checkpointing} both sides recompute activations;
 * {@code --compare-checkpointing} instead measures both modes in this one process ({@link CheckpointingBenchmark});
 * {@code --objective dpo} compares DPO with SFT on the same rows in this one process ({@link PreferenceBenchmark}).
 */
@Command(name = "train", description = "Adapter training step time, tokens/s, MFU; ratio to PEFT + torch.",
        defaultValueProvider = LoraOptions.BenchDefaults.class)
final class BenchTrainCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--synthetic", description = "Instead of --model: a model of this shape (tinyllama-1.1b) from "
            + "seeded random weights built directly in NF4; QLoRA, batch 1, seq 512, checkpointing unless given.")
    String synthetic;

    @Spec
    CommandSpec spec;

    @Option(names = "--method", defaultValue = "lora", description = "lora, prompt-tuning or prefix-tuning (random "
            + "init, --num-virtual-tokens).")
    String method;

    @Option(names = "--num-virtual-tokens", defaultValue = "20", description = "Soft prompts: virtual tokens "
            + "(default ${DEFAULT-VALUE}).")
    int numVirtualTokens;

    @Option(names = "--batch", defaultValue = "4")
    int batch;

    @Option(names = "--seq", defaultValue = "256")
    int seq;

    @Mixin
    LoraOptions lora;

    @Option(names = "--steps", defaultValue = "3", description = "Timed steps (median), after one warm-up.")
    int steps;

    @Option(names = "--gradient-checkpointing", description = "Activation checkpointing (peft4j and PEFT).")
    boolean gradientCheckpointing;

    @Option(names = "--compare-checkpointing", description = "Only compare peft4j with and without activation "
            + "checkpointing in this process (alternating steps; peak RSS per mode).")
    boolean compareCheckpointing;

    @Option(names = "--objective", defaultValue = "sft", description = "sft (default), or dpo: only compare DPO "
            + "with SFT on the same --batch rows (--batch / 2 pairs) in this process (alternating steps; peak RSS "
            + "each).")
    String objective;

    @Option(names = "--loss-chunk", defaultValue = "128", description = "lm_head rows per chunk of the fused "
            + "training loss (default ${DEFAULT-VALUE}); 0 = full [batch, seq, vocab] logits.")
    int lossChunk;

    @Option(names = "--data", description = "Instruction data (JSON/JSONL records) instead of random tokens: prompt "
            + "tokens masked, packed into rows of --seq tokens; PEFT trains on the same rows.")
    Path data;

    @Option(names = "--template", defaultValue = "alpaca", description = "Template for --data (default alpaca).")
    String template;

    @Option(names = "--python", description = "Reference python (default ~/.cache/peft4j/venv/bin/python).")
    Path python;

    @Option(names = "--no-reference", description = "Skip the PEFT measurement.")
    boolean noReference;

    @Override
    public Integer call() throws Exception {
        AdapterConfig config = switch (method.toLowerCase(Locale.ROOT)) {
            case "lora" -> lora.builder().build();
            case "prompt-tuning" -> PromptTuningConfig.builder().setNumVirtualTokens(virtualTokens()).build();
            case "prefix-tuning" -> PrefixTuningConfig.builder().setNumVirtualTokens(virtualTokens()).build();
            default -> throw new IllegalArgumentException("bench train --method " + method
                    + " is not available (lora, prompt-tuning, prefix-tuning)");
        };
        if (!(config instanceof LoraConfig) && (synthetic != null || compareCheckpointing || gradientCheckpointing
                || !objective.equalsIgnoreCase("sft"))) {
            throw new IllegalArgumentException("bench train --method " + method + " measures SFT on --model without "
                    + "activation checkpointing (--synthetic, --gradient-checkpointing, --compare-checkpointing and "
                    + "--objective are LoRA's)");
        }
        if ((model == null) == (synthetic == null)) {
            throw new IllegalArgumentException("bench train needs exactly one of --model PATH and --synthetic NAME");
        }
        if (synthetic != null) {
            ParseResult given = spec.commandLine().getParseResult();
            TrainBenchmark.Shapes s = new TrainBenchmark.Shapes(given.hasMatchedOption("--batch") ? batch : 1,
                    given.hasMatchedOption("--seq") ? seq : 512, given.hasMatchedOption("--steps") ? steps : 2,
                    gradientCheckpointing || !given.hasMatchedOption("--gradient-checkpointing"), lossChunk, null,
                    null);
            out.print(SyntheticTrainBenchmark.report(synthetic, (LoraConfig) config, s, out::status));
            return 0;
        }
        if (!objective.equalsIgnoreCase("sft")) {
            if (!objective.equalsIgnoreCase("dpo")) {
                throw new IllegalArgumentException("bench train --objective " + objective + " is not available "
                        + "(sft, dpo)");
            }
            out.print(PreferenceBenchmark.report(model, (LoraConfig) config, batch, seq, steps, out::status));
            return 0;
        }
        out.print(compareCheckpointing ? CheckpointingBenchmark.report(model, (LoraConfig) config, batch, seq, steps,
                out::status)
                : TrainBenchmark.report(model, config, new TrainBenchmark.Shapes(batch, seq, steps,
                gradientCheckpointing, lossChunk, data, template), noReference ? PeerScript.NONE : PeerScript.of(python), out::status));
        return 0;
    }

    private int virtualTokens() {
        if (numVirtualTokens <= 0) {
            throw new IllegalArgumentException("--num-virtual-tokens must be at least 1, got " + numVirtualTokens);
        }
        return numVirtualTokens;
    }
}
