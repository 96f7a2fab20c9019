package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.quant.internal.DjlDequantKernel;
import io.peft4j.quant.internal.JavaDequantKernel;

import java.util.Random;

/**
 * Measures dequantization throughput of one NF4 + double-quant weight against a plain copy of the same fp32 output
 * in the same run (the floor any dequantization into fp32 memory pays), for {@code peft4j bench dequant}. Each round
 * times every path back to back, after {@link #WARMUP} unrecorded rounds; rates are medians over the rounds and the
 * ratio is the median of the per-round ratios (so a burst of load on the shared machine hits both sides of one
 * ratio), with its min and max. Not a test (no assertions).
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
            return median(ratios);
        }

        /** Median per-round ratio of the DJL-op kernel to the same arraycopy. */
        public double ratioDjlVsCopy() {
            return djlElemsPerS / copyElemsPerS;
        }

        /** Median per-round ratio of the DJL-op kernel to a libtorch copy into fresh memory. */
        public double ratioDjlVsDjlCopy() {
            return median(djlRatios);
        }
    }

    /**
     * Forward time of the same model loaded fp32 and quantized ({@code config}) on one sequence of {@code tokens}
     * token ids, median of {@code iterations} after {@link #WARMUP} warm-up runs. Loads the model twice from
     * {@code weights}.
     *
     * @return {@code {fp32 ms, quantized ms}}
     */
    public static double[] forwardMillis(ModelConfig modelConfig, TensorSource weights, QuantConfig config,
                                         int tokens, int iterations) throws CheckpointFormatException {
        double[] ms = new double[2];
        try (NDManager m = Peft4j.newManager()) {
            int[] ids = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                ids[i] = (i * 7919 + 13) % modelConfig.vocabSize();
            }
            NDArray input = m.create(ids).reshape(1, tokens);
            for (int k = 0; k < 2; k++) {
                LinearLayerFactory f = k == 0 ? DenseLinearFactory.INSTANCE : new QuantizingLinearFactory(config);
                try (LlamaModel model = LlamaModel.load(modelConfig, weights, f, m)) {
                    double[] times = new double[iterations];
                    for (int it = 0; it < WARMUP + iterations; it++) {
                        try (NDScope scope = new NDScope()) {
                            long t0 = System.nanoTime();
                            model.forward(input, null, null).toFloatArray();
                            times[Math.max(0, it - WARMUP)] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    java.util.Arrays.sort(times);
                    ms[k] = median(times);
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
            NDArray codes = DjlDequantKernel.packedCodes(q, m);
            NDArray table = DjlDequantKernel.lookupTable(QuantType.NF4, m);
            NDArray dense = m.create(w, new ai.djl.ndarray.types.Shape(rows, cols));
            float[] out = new float[n];
            float[] copy = new float[n];
            for (int it = 0; it < WARMUP + rounds; it++) {
                long[] dt = round(q, codes, table, dense, out, copy, m);
                for (int k = 0; k < dt.length && it >= WARMUP; k++) {
                    t[k][it - WARMUP] = dt[k];
                }
            }
        } finally {
            JavaDequantKernel.releaseScratch();
        }
        double[] ratios = new double[rounds];
        double[] djlRatios = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ratios[i] = (double) t[1][i] / t[2][i];
            djlRatios[i] = (double) t[4][i] / t[3][i];
        }
        java.util.Arrays.sort(ratios);
        java.util.Arrays.sort(djlRatios);
        return new Result(n, rate(n, t[0]), rate(n, t[2]), rate(n, t[3]), rate(n, t[1]), rate(n, t[4]), ratios,
                djlRatios);
    }

    /** One round: nanoseconds of {java loop, arraycopy, shared (QuantizedLinear's path), DJL ops, libtorch copy}. */
    private static long[] round(QuantizedTensor q, NDArray codes, NDArray table, NDArray dense, float[] out,
                                float[] copy, NDManager m) {
        long t0 = System.nanoTime();
        JavaDequantKernel.dequantize(q, q.absmax().decode(), out);
        long t1 = System.nanoTime();
        System.arraycopy(out, 0, copy, 0, out.length);
        long t2 = System.nanoTime();
        try (NDArray s = JavaDequantKernel.dequantizeShared(q, q.absmax().decode(), m)) {
            long t3 = System.nanoTime();
            try (NDManager tmp = m.newSubManager()) {
                DjlDequantKernel.dequantize(q, codes, table, tmp.create(q.absmax().decode()));
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
        java.util.Arrays.sort(rates);
        return median(rates);
    }

    /** Median of a sorted array. */
    static double median(double[] sorted) {
        int k = sorted.length;
        return k % 2 == 1 ? sorted[k / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
    }
}
