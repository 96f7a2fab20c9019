package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.lora.LoraConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Cost curves ({@code peft4j bench train --sweep}): LoRA training step time, tokens/s and peak RSS over a
 * {@link SweepGrid} of sequence lengths × models, for peft4j and PEFT side by side. Every point of every system runs
 * in its own fresh process, one after the other (never two at once), so each peak RSS is that point's alone: peft4j
 * as a child JVM running {@code bench train ... --no-reference --json} (the command prefix comes from the caller,
 * which knows how it was launched), PEFT as {@code bench_peft.py} through {@link PeerScript}. The {@code --model}
 * file trains in fp32 without checkpointing unless asked (the standard configuration); synthetic shapes train QLoRA
 * (NF4 double quantization on both sides) with checkpointing, as {@link SyntheticTrainBenchmark} does. Each point
 * records the 1-minute load average at its start. A point that fails is left out after a status line naming its log.
 *
 * <pre>{@code
 * List<SweepRow> rows = SweepBenchmark.run(SweepGrid.parse("128", "real", true),
 *         new SweepBenchmark.Settings(lora, Path.of("model.gguf"), 1, 2, false, 128), childPrefix,
 *         PeerScript.of(null), Path.of("target/sweep/logs"), System.err::println);
 * }</pre>
 */
public final class SweepBenchmark {
    /** The quantization label of the {@code --model} file's points (bench models load in fp32). */
    static final String FP32 = "none (fp32)";
    /** The quantization label of peft4j's synthetic points. */
    static final String NF4 = "nf4-double-quant";

    private SweepBenchmark() {
    }

    /**
     * What every point shares.
     *
     * @param lora                the adapter (LoRA)
     * @param model               the {@code --model} file (null when the grid has no real model)
     * @param batch               rows per step
     * @param steps               timed steps per point (after one warm-up)
     * @param checkpointRealModel activation checkpointing for the {@code --model} points (synthetic: always)
     * @param lossChunk           lm_head rows per chunk of peft4j's fused loss
     */
    public record Settings(LoraConfig lora, Path model, int batch, int steps, boolean checkpointRealModel,
                           int lossChunk) {
        public Settings {
            new TrainBenchmark.Shapes(batch, 1, steps, false, lossChunk, null, null);   // validates
        }
    }

    /**
     * Measures every point of {@code grid} with each of its systems: peft4j by running {@code peft4jCommand} (a
     * command line that runs {@code peft4j}, e.g. {@code [java, -cp, CP, io.peft4j.cli.Peft4jCommand]};
     * {@link #childArgs} is appended; its stderr goes to a file in {@code logDir}) and PEFT with {@code peer}
     * (nothing when {@link PeerScript#NONE}).
     */
    public static List<SweepRow> run(SweepGrid grid, Settings s, List<String> peft4jCommand, PeerScript peer,
                                     Path logDir, Consumer<String> status) throws IOException, InterruptedException {
        return run(grid, s, peft4jCommand, peer, logDir, status, rows -> { });
    }

    /**
     * {@link #run(SweepGrid, Settings, List, PeerScript, Path, Consumer)}, handing the rows measured so far to
     * {@code progress} after each one (e.g. to rewrite the CSV, so a long sweep that is stopped keeps its points).
     */
    public static List<SweepRow> run(SweepGrid grid, Settings s, List<String> peft4jCommand, PeerScript peer,
                                     Path logDir, Consumer<String> status, RowsListener progress)
            throws IOException, InterruptedException {
        if (grid.models().contains(SweepGrid.REAL) && s.model() == null) {
            throw new IllegalArgumentException("the sweep grid has the --model file and no --model was given");
        }
        Files.createDirectories(logDir);
        List<SweepRow> rows = new ArrayList<>();
        List<SweepGrid.Point> points = grid.points();
        for (int i = 0; i < points.size(); i++) {
            SweepGrid.Point p = points.get(i);
            TrainBenchmark.Shapes shapes = shapes(p, s);
            String label = label(p, s);
            double load = loadAverage();
            status.accept("bench train --sweep: point " + (i + 1) + "/" + points.size() + ": " + label + ", batch "
                    + s.batch() + ", seq " + p.seq() + " (load " + format(load) + ") ...");
            if (grid.measures(SweepRow.PEFT4J)) {
                List<String> cmd = new ArrayList<>(peft4jCommand);
                cmd.addAll(childArgs(p, s));
                Path log = logDir.resolve("peft4j-" + file(p) + ".log");
                Optional<JsonNode> ours = child(cmd, log);
                if (ours.isEmpty()) {
                    status.accept("bench train --sweep: peft4j failed at " + p + " (see " + log + ")");
                } else {
                    rows.add(row(SweepRow.PEFT4J, label, shapes, ours.get(), p.real() ? FP32 : NF4, load));
                    status.accept("bench train --sweep:   peft4j " + summary(ours.get()));
                    progress.rows(List.copyOf(rows));
                }
            }
            if (!grid.measures(SweepRow.PEFT)) {
                continue;
            }
            double peerLoad = loadAverage();
            List<String> peerArgs = p.real() ? TrainBenchmark.peerArgs(s.model(), s.lora(), shapes)
                    : SyntheticTrainBenchmark.peerArgs(p.model(), s.lora(), shapes);
            Optional<JsonNode> theirs = peer.run("bench_peft.py", peerArgs, "bench train --sweep " + p, "PEFT",
                    status);
            if (theirs.isPresent()) {
                JsonNode j = theirs.get();
                rows.add(row(SweepRow.PEFT, label, shapes, j, j.path("quantization").asText(FP32), peerLoad));
                status.accept("bench train --sweep:   PEFT   " + summary(j));
                progress.rows(List.copyOf(rows));
            }
        }
        return rows;
    }

    /** Receives the rows measured so far. */
    @FunctionalInterface
    public interface RowsListener {
        /** Called after each measured row with every row so far. */
        void rows(List<SweepRow> soFar) throws IOException;
    }

    /** The arguments after {@code peft4j} that measure peft4j alone at {@code p}. */
    static List<String> childArgs(SweepGrid.Point p, Settings s) {
        List<String> a = new ArrayList<>(List.of("bench", "train"));
        a.addAll(p.real() ? List.of("--model", s.model().toString()) : List.of("--synthetic", p.model()));
        a.addAll(List.of("--batch", "" + s.batch(), "--seq", "" + p.seq(), "--steps", "" + s.steps(),
                "--loss-chunk", "" + s.lossChunk()));
        LoraConfig l = s.lora();
        a.addAll(List.of("--r", "" + l.r(), "--alpha", "" + l.loraAlpha(), "--dropout", "" + l.loraDropout()));
        if (l.targetModules().names() == null && !l.targetModules().isAllLinear()) {
            throw new IllegalArgumentException("bench train --sweep takes --target-modules as names or all-linear");
        }
        a.addAll(List.of("--target-modules", TrainBenchmark.describe(l.targetModules())));
        if (l.useRslora()) {
            a.add("--use-rslora");
        }
        if (l.useDora()) {
            a.add("--use-dora");
        }
        if (p.real() && s.checkpointRealModel()) {
            a.add("--gradient-checkpointing");
        }
        a.addAll(List.of("--no-reference", "--json"));
        return a;
    }

    private static TrainBenchmark.Shapes shapes(SweepGrid.Point p, Settings s) {
        return new TrainBenchmark.Shapes(s.batch(), p.seq(), s.steps(), !p.real() || s.checkpointRealModel(),
                s.lossChunk(), null, null);
    }

    private static String label(SweepGrid.Point p, Settings s) {
        return p.real() ? s.model().getFileName().toString().replaceFirst("(?i)\\.gguf$", "")
                : "synthetic:" + p.model();
    }

    private static String file(SweepGrid.Point p) {
        return p.model().replaceAll("[^A-Za-z0-9._-]", "_") + "-seq" + p.seq();
    }

    private static SweepRow row(String system, String model, TrainBenchmark.Shapes s, JsonNode j, String quant,
                                double load) {
        return new SweepRow(system, model, s.seq(), s.batch(), j.get("step_s").asDouble(),
                j.get("tokens_per_s").asDouble(), j.path("peak_rss_mb").asLong(-1), s.checkpointActivations(),
                quant.replace(',', ';'), load);
    }

    private static String summary(JsonNode j) {
        return String.format(java.util.Locale.ROOT, "step %.3f s, %.1f tokens/s, peak RSS %d MiB",
                j.get("step_s").asDouble(), j.get("tokens_per_s").asDouble(), j.path("peak_rss_mb").asLong(-1));
    }

    /** Runs {@code cmd} (stderr to {@code log}) and reads its last stdout line as JSON; empty when it fails. */
    private static Optional<JsonNode> child(List<String> cmd, Path log) throws IOException, InterruptedException {
        Process proc = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (proc.waitFor() != 0 || out.isBlank()) {
            return Optional.empty();
        }
        String[] lines = out.strip().split("\n");
        JsonNode j = Json.MAPPER.readTree(lines[lines.length - 1]);
        return j.has("step_s") ? Optional.of(j) : Optional.empty();
    }

    /** The 1-minute load average (/proc/loadavg), NaN where there is none. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static String format(double l) {
        return Double.isNaN(l) ? "unknown" : String.format(java.util.Locale.ROOT, "%.2f", l);
    }
}
