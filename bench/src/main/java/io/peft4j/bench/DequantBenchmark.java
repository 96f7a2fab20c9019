package io.peft4j.bench;

import io.peft4j.core.Inference;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.quant.DequantKernels;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantizedLinear;
import io.peft4j.quant.QuantizedTensor;
import io.peft4j.quant.Quantizer;
import io.peft4j.quant.QuantizingLinearFactory;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Measures dequantization throughput of one NF4 + double-quant weight against a plain copy of the same fp32 output
 * in the same run (the floor any dequantization into fp32 memory pays), for {@code peft4j bench dequant}. Each round
 * times every path back to back, after {@link #WARMUP} unrecorded rounds; rates are medians over the rounds and the
 * ratio is the median of the per-round ratios (so a burst of load on the shared machine hits both sides of one
 * ratio), with its min and max. Not a test (no assertions). {@link #report} adds, with a model, the forward time of
 * the nf4 model against the fp32 model. The kernels alone, per call, are the JMH benchmark
 * {@code io.peft4j.bench.jmh.DequantKernelBenchmark} (test scope).
 *
 * <pre>{@code
 * DequantBenchmark.Result r = DequantBenchmark.run(4096, 4096, 7);
 * double ratio = r.ratioDequantVsCopy();   // QuantizedLinear's path over the copy, median of 7 rounds
 * }</pre>
 */
public final class DequantBenchmark {
    /** Rounds run before timing: JIT compilation, page touching of the reused buffers. */
    static final int WARMUP = 2;

    private DequantBenchmark() {
    }

    /**
     * Medians over the timed rounds (elements per second).
     *
     * @param javaElemsPerS   Java kernel into a reused float[] (the loop alone)
     * @param sharedElemsPerS Java kernel into the pre-touched direct buffer plus the aliasing NDArray (what
     *                        {@link QuantizedLinear} does per forward with {@link QuantizedLinear.Kernel#JAVA})
     * @param djlElemsPerS    DJL-op kernel ({@code [256,2]} table gather, times absmax in place), codes native
     * @param copyElemsPerS   {@code System.arraycopy} of the fp32 output into a reused, pre-touched array
     * @param djlCopyElemsPerS libtorch copy ({@code duplicate()}) of the fp32 output into fresh native memory, the
     *                        floor of any op that allocates its result as the DJL kernel does
     * @param ratios          per round: shared path's rate over the copy's rate, sorted
     * @param djlRatios       per round: DJL kernel's rate over the libtorch copy's rate, sorted
     */
    public record Result(long elements, double javaElemsPerS, double sharedElemsPerS, double djlElemsPerS,
                         double copyElemsPerS, double djlCopyElemsPerS, double[] ratios, double[] djlRatios) {
        /** Median per-round ratio of {@link QuantizedLinear}'s default path to the copy (target ≥ 0.5). */
        public double ratioDequantVsCopy() {
            return Medians.median(ratios);
        }

        /** Median per-round ratio of the DJL-op kernel to the same arraycopy. */
        public double ratioDjlVsCopy() {
            return djlElemsPerS / copyElemsPerS;
        }

        /** Median per-round ratio of the DJL-op kernel to a libtorch copy into fresh memory. */
        public double ratioDjlVsDjlCopy() {
            return Medians.median(djlRatios);
        }
    }

    /**
     * {@code peft4j bench dequant}: {@link #run} on a {@code rows × cols} weight and, with a model, the forward
     * comparison ({@link #forwardMillis}, NF4 + double quant); returns the {@code --json} keys.
     *
     * @param model a model file or folder; null for {@link #defaultModel()}, {@code "none"} to skip the forward
     */
    public static Map<String, Object> report(int rows, int cols, int iterations, String model, int tokens,
                                             Consumer<String> status) throws PeftException, NoSuchFileException {
        Result r = run(rows, cols, iterations);
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "dequant");
        res.put("elements", r.elements());
        res.put("rounds", iterations);
        res.put("dequant_elements_per_s", roundRate(r.sharedElemsPerS()));
        res.put("dequant_java_loop_elements_per_s", roundRate(r.javaElemsPerS()));
        res.put("dequant_djl_ops_elements_per_s", roundRate(r.djlElemsPerS()));
        res.put("copy_elements_per_s", roundRate(r.copyElemsPerS()));
        res.put("djl_copy_elements_per_s", roundRate(r.djlCopyElemsPerS()));
        res.put("ratio_dequant_vs_copy", ratio(r.ratioDequantVsCopy()));
        res.put("ratio_dequant_vs_copy_min", ratio(r.ratios()[0]));
        res.put("ratio_dequant_vs_copy_max", ratio(r.ratios()[r.ratios().length - 1]));
        res.put("ratio_djl_dequant_vs_copy", ratio(r.ratioDjlVsCopy()));
        res.put("ratio_djl_dequant_vs_djl_copy", ratio(r.ratioDjlVsDjlCopy()));
        Path m = "none".equals(model) ? null : model != null ? Paths.get(model) : defaultModel();
        if (m != null) {
            status.accept("forward comparison on " + m + " (" + tokens + " tokens)");
            try (Checkpoint ckpt = Checkpoints.open(m)) {
                double[] ms = forwardMillis(ckpt, QuantConfig.nf4DoubleQuant(), tokens, iterations);
                res.put("forward_fp32_ms", Math.round(ms[0] * 10) / 10.0);
                res.put("forward_nf4_ms", Math.round(ms[1] * 10) / 10.0);
                res.put("ratio_forward_nf4_vs_fp32", ratio(ms[1] / ms[0]));
            }
        }
        return res;
    }

    /**
     * The SmolLM2 test model when present: {@code $PEFT4J_TEST_MODEL}, else
     * {@code ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf}; null when that file does not exist.
     */
    public static Path defaultModel() {
        String env = System.getenv("PEFT4J_TEST_MODEL");
        Path p = env != null ? Paths.get(env) : Paths.get(System.getProperty("user.home"), ".cache", "peft4j",
                "models", "SmolLM2-135M-Instruct.Q4_1.gguf");
        return Files.isRegularFile(p) ? p : null;
    }

    /**
     * Forward time of the same model loaded fp32 and quantized ({@code config}) on one sequence of {@code tokens}
     * token ids, median of {@code iterations} after {@link #WARMUP} warm-up runs. Loads the model twice from
     * {@code weights}.
     *
     * @return {@code {fp32 ms, quantized ms}}
     */
    public static double[] forwardMillis(Checkpoint ckpt, QuantConfig config, int tokens, int iterations)
            throws PeftException, NoSuchFileException {
        ModelConfig modelConfig = ckpt.config();
        double[] ms = new double[2];
        try (NDManager m = Peft4j.newManager()) {
            int[] ids = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                ids[i] = (i * 7919 + 13) % modelConfig.vocabSize();
            }
            NDArray input = m.create(ids).reshape(1, tokens);
            for (int k = 0; k < 2; k++) {
                LinearLayerFactory f = k == 0 ? DenseLinearFactory.INSTANCE : new QuantizingLinearFactory(config);
                try (Peft4jModel loaded = Peft4jModel.builder().setCheckpoint(ckpt).optLinearLayerFactory(f).build()) {
                    CausalLM model = loaded.base();
                    double[] times = new double[iterations];
                    for (int it = 0; it < WARMUP + iterations; it++) {
                        try (Inference.Scope inference = Inference.enter(); NDScope scope = new NDScope()) {
                            long t0 = System.nanoTime();
                            model.forward(input, null, null).toFloatArray();
                            times[Math.max(0, it - WARMUP)] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    Arrays.sort(times);
                    ms[k] = Medians.median(times);
                }
            }
        }
        return ms;
    }

    /** Runs the benchmark on a {@code rows × cols} Gaussian weight (seed 42) for {@code rounds} timed rounds. */
    public static Result run(int rows, int cols, int rounds) {
        if (rows <= 0 || cols <= 0 || rounds <= 0) {
            throw new IllegalArgumentException("rows, cols and rounds must be positive");
        }
        int n = Math.multiplyExact(rows, cols);
        Random r = new Random(42);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        QuantizedTensor q = Quantizer.quantize("bench", w, new long[] {rows, cols}, QuantConfig.nf4DoubleQuant());
        long[][] t = new long[5][rounds]; // java, copy, shared, djl, djl copy
        try (NDManager m = Peft4j.newManager()) {
            DequantKernels.DjlInputs djl = DequantKernels.djlInputs(q, m);
            NDArray dense = m.create(w, new ai.djl.ndarray.types.Shape(rows, cols));
            float[] out = new float[n];
            float[] copy = new float[n];
            for (int it = 0; it < WARMUP + rounds; it++) {
                long[] dt = round(q, djl, dense, out, copy, m);
                for (int k = 0; k < dt.length && it >= WARMUP; k++) {
                    t[k][it - WARMUP] = dt[k];
                }
            }
        } finally {
            DequantKernels.releaseScratch();
        }
        double[] ratios = new double[rounds];
        double[] djlRatios = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ratios[i] = (double) t[1][i] / t[2][i];
            djlRatios[i] = (double) t[4][i] / t[3][i];
        }
        Arrays.sort(ratios);
        Arrays.sort(djlRatios);
        return new Result(n, rate(n, t[0]), rate(n, t[2]), rate(n, t[3]), rate(n, t[1]), rate(n, t[4]), ratios,
                djlRatios);
    }

    /** One round: nanoseconds of {java loop, arraycopy, shared (QuantizedLinear's path), DJL ops, libtorch copy}. */
    private static long[] round(QuantizedTensor q, DequantKernels.DjlInputs djl, NDArray dense, float[] out,
                                float[] copy, NDManager m) {
        long t0 = System.nanoTime();
        DequantKernels.javaInto(q, q.absmax().decode(), out);
        long t1 = System.nanoTime();
        System.arraycopy(out, 0, copy, 0, out.length);
        long t2 = System.nanoTime();
        try (NDArray s = DequantKernels.javaShared(q, q.absmax().decode(), m)) {
            long t3 = System.nanoTime();
            try (NDManager tmp = m.newSubManager()) {
                DequantKernels.djl(q, djl, tmp.create(q.absmax().decode()));
            }
            long t4 = System.nanoTime();
            try (NDArray d = dense.duplicate()) {
                long t5 = System.nanoTime();
                return new long[] {t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4};
            }
        }
    }

    private static double rate(long elements, long[] nanos) {
        double[] rates = new double[nanos.length];
        for (int i = 0; i < nanos.length; i++) {
            rates[i] = elements * 1e9 / nanos[i];
        }
        Arrays.sort(rates);
        return Medians.median(rates);
    }

    private static double ratio(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static double roundRate(double v) {
        return Math.round(v / 1e4) * 1e4;
    }
}
