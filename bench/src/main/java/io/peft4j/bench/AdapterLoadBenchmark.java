package io.peft4j.bench;

import io.peft4j.core.PeftException;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * How fast adapters come and go on a loaded base: the time {@link Peft4jModel#loadAdapter} takes for a PEFT adapter
 * folder (config parse, shape check, memory-mapped read into the adapter's arrays) once warm, and the time
 * {@link Peft4jModel#setActiveAdapters} takes to switch between two loaded adapters. The adapters are written by
 * this bench (random non-zero LoRA weights, PEFT layout) into a temporary folder; every figure is a median.
 *
 * <pre>{@code
 * try (Peft4jModel model = Peft4jModel.builder().setPath(path).build()) {
 *     AdapterLoadBenchmark.Result r = AdapterLoadBenchmark.run(model, AdapterLoadBenchmark.qv(8), 20, 1000);
 * }
 * }</pre>
 */
public final class AdapterLoadBenchmark {
    private static final int WARMUP = 5;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * @param loadMs        median wall time of one {@code loadAdapter} (warm), milliseconds
     * @param loadCpuMs     median CPU time of the loading thread during one load (what a loaded machine does not
     *                      inflate: wall time also counts waiting for a core)
     * @param loadMsMin     fastest load
     * @param loadMsMax     slowest load
     * @param switchUs      median wall time of one {@code setActiveAdapters} between two loaded adapters, microseconds
     * @param adapterBytes  size of {@code adapter_model.safetensors}
     * @param parameters    adapter parameters
     */
    public record Result(double loadMs, double loadCpuMs, double loadMsMin, double loadMsMax, double switchUs, long adapterBytes,
                         long parameters) {
    }

    private AdapterLoadBenchmark() {
    }

    /** LoRA rank {@code r} (alpha 2r) on {@code q_proj} and {@code v_proj}, random non-zero init. */
    public static LoraConfig qv(int r) {
        return LoraConfig.builder().optR(r).optLoraAlpha(2.0 * r).optTargetModules(TargetModules.of("q_proj", "v_proj"))
                .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    }

    /** {@code peft4j bench adapter-load}: loads {@code model} in fp32 and measures {@link #run}; the {@code --json} keys. */
    public static Map<String, Object> report(Path model, LoraConfig config, int loads, int switches,
                                             Consumer<String> status) throws PeftException, IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", "adapter-load");
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) {
            status.accept("bench adapter-load: r " + config.r() + " on " + config.targetModules() + ", " + loads
                    + " loads, " + switches + " switches ...");
            Result r = run(m, config, loads, switches);
            out.put("r", config.r());
            out.put("adapter_bytes", r.adapterBytes());
            out.put("adapter_parameters", r.parameters());
            out.put("load_ms", round(r.loadMs()));
            out.put("load_cpu_ms", round(r.loadCpuMs()));
            out.put("load_ms_min", round(r.loadMsMin()));
            out.put("load_ms_max", round(r.loadMsMax()));
            out.put("switch_us", round(r.switchUs()));
        }
        return out;
    }

    /**
     * Saves two adapters of {@code config} for {@code model}, then times {@code loads} loads (after
     * {@value #WARMUP} warm-ups; each is deleted again) and {@code switches} switches between the two.
     * The model is left without adapters.
     */
    public static Result run(Peft4jModel model, LoraConfig config, int loads, int switches)
            throws PeftException, IOException {
        if (loads < 1 || switches < 1) {
            throw new IllegalArgumentException("loads and switches must be >= 1, got " + loads + ", " + switches);
        }
        Path tmp = Files.createTempDirectory("peft4j-bench-adapter");
        try {
            Path a = save(model, config, 1, tmp.resolve("a"));
            Path b = save(model, config, 2, tmp.resolve("b"));
            double[] ms = new double[loads];
            double[] cpu = new double[loads];
            long parameters = 0;
            for (int i = 0; i < WARMUP + loads; i++) {
                long c0 = THREADS.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                parameters = model.loadAdapter(a, "timed").parameterCount();
                long t1 = System.nanoTime();
                long c1 = THREADS.getCurrentThreadCpuTime();
                model.peft().deleteAdapter("timed");
                if (i >= WARMUP) {
                    ms[i - WARMUP] = (t1 - t0) / 1e6;
                    cpu[i - WARMUP] = (c1 - c0) / 1e6;
                }
            }
            Arrays.sort(ms);
            Arrays.sort(cpu);
            double switchUs = switchMicros(model, a, b, switches);
            return new Result(Medians.median(ms), Medians.median(cpu), ms[0], ms[ms.length - 1], switchUs,
                    Files.size(a.resolve("adapter_model.safetensors")), parameters);
        } finally {
            deleteTree(tmp);
        }
    }

    private static double switchMicros(Peft4jModel model, Path a, Path b, int switches) throws PeftException {
        model.loadAdapter(a, "a");
        model.loadAdapter(b, "b");
        try {
            double[] us = new double[switches];
            for (int i = 0; i < WARMUP + switches; i++) {
                long t0 = System.nanoTime();
                model.setActiveAdapters(i % 2 == 0 ? "a" : "b");
                long t1 = System.nanoTime();
                if (i >= WARMUP) {
                    us[i - WARMUP] = (t1 - t0) / 1e3;
                }
            }
            Arrays.sort(us);
            return Medians.median(us);
        } finally {
            model.peft().deleteAdapter("a");
            model.peft().deleteAdapter("b");
        }
    }

    private static Path save(Peft4jModel model, LoraConfig config, long seed, Path dir) throws PeftException {
        model.addAdapter("saved", config, seed);
        try {
            model.peft().saveAdapter("saved", dir);
        } finally {
            model.peft().deleteAdapter("saved");
        }
        return dir;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
