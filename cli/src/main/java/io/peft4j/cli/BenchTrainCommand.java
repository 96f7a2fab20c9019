package io.peft4j.cli;

import io.peft4j.bench.CheckpointingBenchmark;
import io.peft4j.bench.PeerScript;
import io.peft4j.bench.PreferenceBenchmark;
import io.peft4j.bench.SweepBenchmark;
import io.peft4j.bench.SweepGrid;
import io.peft4j.bench.SweepReport;
import io.peft4j.bench.SweepRow;
import io.peft4j.bench.SyntheticTrainBenchmark;
import io.peft4j.bench.TrainBenchmark;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.model.TokenCrossEntropy;
import io.peft4j.lora.LoraConfig;
import io.peft4j.prompt.PrefixTuningConfig;
import io.peft4j.prompt.PromptTuningConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench train --model PATH --method lora --batch 4 --seq 256 --r 16 --target-modules all-linear}:
 * {@link TrainBenchmark}, LoRA training step time, tokens/s and MFU, then PEFT + torch on the same configuration
 * and the ratios of step times and peak RSS; {@code --method prompt-tuning | prefix-tuning} does the same for a soft
 * prompt of {@code --num-virtual-tokens}. With {@code --gradient-checkpointing} both sides recompute activations;
 * {@code --compare-checkpointing} instead measures both modes in this one process ({@link CheckpointingBenchmark});
 * {@code --objective dpo} compares DPO with SFT on the same rows in this one process ({@link PreferenceBenchmark}).
 * {@code --synthetic NAME} measures QLoRA on a seeded random model of a known shape, then PEFT + bitsandbytes on the
 * same shape ({@link SyntheticTrainBenchmark}). {@code --sweep} draws cost curves over seq × model, each point in a
 * fresh child process of this same JVM command line ({@link SweepBenchmark}), into {@code --out} as CSV and PNG.
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

    @Option(names = "--peer-on-our-allocator", description = "PEFT runs on the allocator the launcher preloaded "
            + "for peft4j (tcmalloc when installed) instead of the user's default.")
    boolean peerOnOurAllocator;

    @Option(names = "--selective-checkpointing", description = "With --compare-checkpointing: the checkpointed "
            + "mode also keeps each layer's frozen gate, up and down outputs (selective checkpointing).")
    boolean selectiveCheckpointing;

    @Option(names = "--objective", defaultValue = "sft", description = "sft (default), or dpo: only compare DPO "
            + "with SFT on the same --batch rows (--batch / 2 pairs) in this process (alternating steps; peak RSS "
            + "each).")
    String objective;

    @Option(names = "--loss-chunk", defaultValue = "" + TokenCrossEntropy.DEFAULT_CHUNK, description = "lm_head "
            + "rows per chunk of the fused training loss (default ${DEFAULT-VALUE}); 0 = full [batch, seq, vocab] "
            + "logits.")
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

    @Option(names = "--sweep", description = "Cost curves: step time, tokens/s and peak RSS of peft4j and PEFT over "
            + "--sweep-seqs x --sweep-models, each point in its own process; CSV + PNG chart in --out.")
    boolean sweep;

    @Option(names = "--sweep-seqs", description = "Sweep sequence lengths (default 128,256,512,1024).")
    String sweepSeqs;

    @Option(names = "--sweep-models", description = "Sweep models: real (the --model file; alias 135m), "
            + "smollm2-360m (360m), tinyllama-1.1b (1.1b). Default: real when --model is given, and both shapes.")
    String sweepModels;

    @Option(names = "--sweep-systems", description = "Sweep systems: peft4j, peft (default both; --no-reference "
            + "= peft4j only).")
    String sweepSystems;

    @Option(names = "--out", defaultValue = "target/sweep", description = "Sweep output folder (default "
            + "${DEFAULT-VALUE}): sweep.csv, sweep.png, logs/.")
    Path outDir;

    @Option(names = "--append", description = "Sweep: keep the rows of an existing --out/sweep.csv (a re-measured "
            + "point replaces its row) and chart them all.")
    boolean append;

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
        if (sweep) {
            return sweep(config);
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
            out.print(SyntheticTrainBenchmark.report(synthetic, (LoraConfig) config, s,
                    noReference ? PeerScript.NONE : PeerScript.of(python), out::status));
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
        if (selectiveCheckpointing && !compareCheckpointing) {
            throw new IllegalArgumentException("bench train --selective-checkpointing goes with "
                    + "--compare-checkpointing");
        }
        out.print(compareCheckpointing ? CheckpointingBenchmark.report(model, (LoraConfig) config, batch, seq, steps,
                selectiveCheckpointing, out::status)
                : TrainBenchmark.report(model, config, new TrainBenchmark.Shapes(batch, seq, steps,
                gradientCheckpointing, lossChunk, data, template), peer(), out::status));
        return 0;
    }

    /** The PEFT peer of a single run: none with --no-reference, on our allocator with --peer-on-our-allocator. */
    private PeerScript peer() {
        PeerScript p = noReference ? PeerScript.NONE : PeerScript.of(python);
        return peerOnOurAllocator ? p.onOurAllocator() : p;
    }

    /** {@code --sweep}: every point in a child process, then the CSV and the chart. */
    private int sweep(AdapterConfig config) throws Exception {
        if (!(config instanceof LoraConfig lora) || synthetic != null || data != null || compareCheckpointing
                || !objective.equalsIgnoreCase("sft")) {
            throw new IllegalArgumentException("bench train --sweep measures LoRA SFT on random tokens (--model for "
                    + "the real model; not with --synthetic, --data, --compare-checkpointing or --objective)");
        }
        SweepGrid grid = SweepGrid.parse(sweepSeqs, sweepModels, noReference ? SweepRow.PEFT4J : sweepSystems,
                model != null);
        ParseResult given = spec.commandLine().getParseResult();
        SweepBenchmark.Settings settings = new SweepBenchmark.Settings(lora, model,
                given.hasMatchedOption("--batch") ? batch : 1, given.hasMatchedOption("--steps") ? steps : 2,
                gradientCheckpointing, lossChunk);
        Path csv = outDir.resolve("sweep.csv");
        List<SweepRow> earlier = append && Files.isRegularFile(csv) ? SweepReport.readCsv(csv) : List.of();
        out.status("bench train --sweep: " + grid.points().size() + " points " + grid.points() + ", "
                + String.join(" and ", grid.systems()) + ", each in its own process");
        List<SweepRow> rows = SweepReport.merge(earlier, SweepBenchmark.run(grid, settings, selfCommand(),
                noReference ? PeerScript.NONE : PeerScript.of(python), outDir.resolve("logs"), out::status,
                soFar -> SweepReport.writeCsv(csv, SweepReport.merge(earlier, soFar))));
        Path png = outDir.resolve("sweep.png");
        SweepReport.writeCsv(csv, rows);
        SweepReport.writeChart(png, rows, "peft4j vs PEFT: LoRA r=" + lora.r() + " training cost, "
                + Runtime.getRuntime().availableProcessors() + " cores");
        out.status("bench train --sweep: wrote " + csv + " and " + png);
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train_sweep");
        res.put("csv", csv.toString());
        res.put("png", png.toString());
        res.put("rows", rows.stream().map(SweepRow::toMap).toList());
        if (out.json) {
            out.print(res);
        } else {
            System.out.println(SweepRow.CSV_HEADER);
            rows.forEach(r -> System.out.println(r.toCsv()));
        }
        return 0;
    }

    /** The command line that runs this CLI again: this JVM's java, its options and class path, the main class. */
    private static List<String> selfCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Peft4jCommand.class.getName()));
        return cmd;
    }

    private int virtualTokens() {
        if (numVirtualTokens <= 0) {
            throw new IllegalArgumentException("--num-virtual-tokens must be at least 1, got " + numVirtualTokens);
        }
        return numVirtualTokens;
    }
}
