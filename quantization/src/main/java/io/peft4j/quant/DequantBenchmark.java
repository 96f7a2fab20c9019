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
import io.peft4j.core.model.LlamaModel;
import io.peft4j.quant.internal.DjlDequantKernel;
import io.peft4j.quant.internal.JavaDequantKernel;

import java.util.Random;

/**
 * Measures dequantization throughput of one NF4 + double-quant weight against a plain copy of the same fp32 output
 * in the same run (the floor any dequantization into fresh fp32 memory pays), for {@code peft4j bench dequant}.
 * Numbers are best-of-{@code iterations} wall times; not a test (no assertions), noisy on shared machines.
 *
 * <pre>{@code
 * DequantBenchmark.Result r = DequantBenchmark.run(4096, 4096, 5);
 * double ratio = r.ratioDequantVsCopy();   // Java kernel elements/s over copy elements/s
 * }</pre>
 */
public final class DequantBenchmark {
    private DequantBenchmark() {
    }

    /**
     * @param javaElemsPerS  Java kernel into the reused float scratch (the loop alone)
     * @param sharedElemsPerS Java kernel plus bulk copy into the pre-touched direct buffer and the aliasing NDArray
     *                        (what {@link QuantizedLinear} does per forward)
     * @param djlElemsPerS   DJL-op kernel ({@code [256,2]} table gather, times absmax), codes already native
     * @param copyElemsPerS  {@code System.arraycopy} of the fp32 output into a reused, pre-touched array
     */
    public record Result(long elements, double javaElemsPerS, double sharedElemsPerS, double djlElemsPerS,
                         double copyElemsPerS) {
        /** Fastest path (the one {@link QuantizedLinear} uses by default) over the copy. */
        public double ratioDequantVsCopy() {
            return sharedElemsPerS / copyElemsPerS;
        }

        public double ratioDjlVsCopy() {
            return djlElemsPerS / copyElemsPerS;
        }
    }

    /**
     * Forward time of the same model loaded fp32 and quantized ({@code config}) on one sequence of {@code tokens}
     * token ids, best of {@code iterations} after a warm-up. Loads the model twice from {@code weights}.
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
                    long best = Long.MAX_VALUE;
                    for (int it = 0; it < iterations + 1; it++) {
                        try (NDScope scope = new NDScope()) {
                            long t0 = System.nanoTime();
                            model.forward(input, null, null).toFloatArray();
                            long dt = System.nanoTime() - t0;
                            best = it == 0 ? best : Math.min(best, dt);
                        }
                    }
                    ms[k] = best / 1e6;
                }
            }
        }
        return ms;
    }

    /** Runs the benchmark on a {@code rows × cols} Gaussian weight (seed 42). */
    public static Result run(int rows, int cols, int iterations) {
        if (rows <= 0 || cols <= 0 || iterations <= 0) {
            throw new IllegalArgumentException("rows, cols and iterations must be positive");
        }
        int n = Math.multiplyExact(rows, cols);
        Random r = new Random(42);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        QuantizedTensor q = Quantizer.quantize("bench", w, new long[] {rows, cols}, QuantConfig.nf4DoubleQuant());
        float[] out = new float[n];
        float[] copy = new float[n];
        long tJava = Long.MAX_VALUE;
        long tCopy = Long.MAX_VALUE;
        long tShared = Long.MAX_VALUE;
        long tDjl = Long.MAX_VALUE;
        try (NDManager m = Peft4j.newManager()) {
            NDArray codes = DjlDequantKernel.packedCodes(q, m);
            NDArray table = DjlDequantKernel.lookupTable(QuantType.NF4, m);
            for (int it = 0; it < iterations + 1; it++) {
                long t0 = System.nanoTime();
                float[] absmax = q.absmax().decode();
                JavaDequantKernel.dequantize(q, absmax, out);
                long t1 = System.nanoTime();
                System.arraycopy(out, 0, copy, 0, n);
                long t2 = System.nanoTime();
                try (NDArray s = JavaDequantKernel.dequantizeShared(q, q.absmax().decode(), m)) {
                    long t3 = System.nanoTime();
                    tShared = it == 0 ? tShared : Math.min(tShared, t3 - t2);
                }
                long t4 = System.nanoTime();
                try (NDManager tmp = m.newSubManager()) {
                    NDArray am = tmp.create(q.absmax().decode());
                    DjlDequantKernel.dequantize(q, codes, table, am).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                }
                long t5 = System.nanoTime();
                if (it > 0) { // first round warms up the JIT and touches the buffers
                    tJava = Math.min(tJava, t1 - t0);
                    tCopy = Math.min(tCopy, t2 - t1);
                    tDjl = Math.min(tDjl, t5 - t4);
                }
            }
        } finally {
            JavaDequantKernel.releaseScratch();
        }
        return new Result(n, n * 1e9 / tJava, n * 1e9 / tShared, n * 1e9 / tDjl, n * 1e9 / tCopy);
    }
}
