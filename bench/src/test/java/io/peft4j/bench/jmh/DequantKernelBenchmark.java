package io.peft4j.bench.jmh;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.Peft4j;
import io.peft4j.quant.DequantKernels;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedTensor;
import io.peft4j.quant.Quantizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * JMH: the 4-bit dequantization kernels on one {@code rows × cols} Gaussian weight (seed 42), per call: the scalar
 * Java loop into a reused {@code float[]}, the same loop into the pre-touched direct buffer wrapped as an NDArray
 * ({@code QuantizedLinear}'s default path), the DJL-op kernel (table gather × absmax), decoding the double-quantized
 * absmax alone, and {@code System.arraycopy} of the fp32 result as the floor. {@code peft4j bench dequant} reports
 * the same paths as ratios in one run; this gives each its own confidence interval. Run with
 * {@code scripts/bench/jmh.sh Dequant} (never by {@code mvn verify}).
 *
 * <pre>{@code
 * bash scripts/bench/jmh.sh DequantKernelBenchmark -p type=NF4 -p cols=4096
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class DequantKernelBenchmark {
    @Param({"1024"})
    public int rows;

    @Param({"4096"})
    public int cols;

    @Param({"NF4", "FP4"})
    public QuantType type;

    QuantizedTensor q;
    float[] absmax;
    float[] out;
    float[] copy;
    private NDManager manager;
    private DequantKernels.DjlInputs djl;
    private NDArray absmaxArray;

    @Setup(Level.Trial)
    public void setUp() {
        int n = Math.multiplyExact(rows, cols);
        Random r = new Random(42);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        QuantConfig config = type == QuantType.NF4 ? QuantConfig.nf4DoubleQuant() : QuantConfig.of(type);
        q = Quantizer.quantize("bench", w, new long[] {rows, cols}, config);
        absmax = q.absmax().decode();
        out = new float[n];
        copy = new float[n];
        manager = Peft4j.newManager();
        djl = DequantKernels.djlInputs(q, manager);
        absmaxArray = manager.create(absmax);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
        DequantKernels.releaseScratch();
    }

    /** The scalar reference loop into a reused array. */
    @Benchmark
    public float[] javaLoop() {
        DequantKernels.javaInto(q, absmax, out);
        return out;
    }

    /** The loop into the reused direct buffer, wrapped zero-copy as an NDArray (what a quantized forward does). */
    @Benchmark
    public float sharedBuffer() {
        try (NDArray w = DequantKernels.javaShared(q, absmax, manager)) {
            return w.getFloat(0, 0);
        }
    }

    /** The DJL-op kernel; its fresh fp32 result is freed by the scope. */
    @Benchmark
    public float djlOps() {
        try (NDScope scope = new NDScope()) {
            return DequantKernels.djl(q, djl, absmaxArray).getFloat(0, 0);
        }
    }

    /** Decoding the absmax (double quantization: 8-bit codes × nested scales), done once per forward. */
    @Benchmark
    public float[] absmaxDecode() {
        return q.absmax().decode();
    }

    /** The floor: copying the fp32 result once. */
    @Benchmark
    public float[] arraycopy() {
        System.arraycopy(out, 0, copy, 0, out.length);
        return copy;
    }
}
