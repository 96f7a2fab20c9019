package io.peft4j.quant.internal.kernel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Inference;
import io.peft4j.core.decode.SpinningWorkers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * The decode path of quantized layers: {@code y = x·Wᵀ (+ b)} for inputs of at most {@link #maxRows()} rows,
 * computed by the kernel chosen once per JVM and split over output features on {@link SpinningWorkers} sized to the DJL
 * intra-op thread count ({@code ai.djl.pytorch.num_threads}, else the available processors; the calling thread
 * takes one share). The choice is logged once at INFO with its reason:
 * <ul>
 *   <li>{@code -Dpeft4j.decode.kernel=auto} (default): {@link VectorMatVecKernel} when the {@code jdk.incubator.vector}
 *       module is in the boot layer ({@code --add-modules jdk.incubator.vector}; the {@code ./peft4j} launcher and
 *       the test JVMs pass it) and the CPU's vector width suits it, else {@link ScalarMatVecKernel};</li>
 *   <li>{@code vector} / {@code scalar} force one; {@code off} disables the decode path (layers always dequantize
 *       and multiply in libtorch).</li>
 * </ul>
 * {@code -Dpeft4j.decode.maxRows=N} moves the crossover (default {@value #DEFAULT_MAX_ROWS}, measured with
 * {@code peft4j bench decode}). Thread-safe.
 *
 * <pre>{@code
 * if (MatVec.enabled() && rows <= MatVec.maxRows()) {
 *     NDArray y = MatVec.forward(weight, x, biasOrNull);   // x [..., cols] -> y [..., rows of W]
 * }
 * }</pre>
 */
public final class MatVec {
    /** System property choosing the kernel: {@code auto}, {@code vector}, {@code scalar} or {@code off}. */
    public static final String KERNEL_PROPERTY = "peft4j.decode.kernel";
    /** System property: the largest number of input rows that takes the decode path. */
    public static final String MAX_ROWS_PROPERTY = "peft4j.decode.maxRows";
    /** Default crossover: up to this many rows the kernel beats dequantize + libtorch GEMM (bench decode). */
    public static final int DEFAULT_MAX_ROWS = 16;
    /** Below this many multiply-adds a call runs on the calling thread alone (a fork costs microseconds). */
    private static final long PARALLEL_MIN = 1L << 16;
    /** Chunks of output features per call, claimed one at a time by the threads (balances a slowed-down core). */
    private static final int CHUNKS = 8 * (SpinningWorkers.shared().workers() + 1);
    private static final Logger LOG = LoggerFactory.getLogger(MatVec.class);
    private static final Choice CHOICE = choose(System.getProperty(KERNEL_PROPERTY, "auto"));
    private static final int MAX_ROWS = Integer.getInteger(MAX_ROWS_PROPERTY, DEFAULT_MAX_ROWS);
    private static final LongAdder CALLS = new LongAdder();
    private static final SpinningWorkers WORKERS = SpinningWorkers.shared();
    /** Floats of W decoded into a heap chunk (L2-sized) before each bulk copy into the destination. */
    private static final int DECODE_CHUNK_FLOATS = 1 << 15;
    private static final ThreadLocal<float[]> DECODE_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /** The kernel in use (null when the decode path is off) and why it was chosen. */
    private record Choice(MatVecKernel kernel, String reason) {
    }

    private MatVec() {
    }

    /** Whether the decode path is on. */
    public static boolean enabled() {
        return CHOICE.kernel() != null;
    }

    /** The largest input row count the decode path takes. */
    public static int maxRows() {
        return MAX_ROWS;
    }

    /**
     * Whether a forward on {@code x} takes the decode path: the path is on, the thread is in an
     * {@link Inference} region (no autograd graph wants W), {@code x} is fp32 and has at most {@link #maxRows()}
     * rows of {@code cols}.
     */
    public static boolean takes(NDArray x, long cols) {
        return CHOICE.kernel() != null && Inference.active() && x.getDataType() == DataType.FLOAT32
                && x.size() <= cols * MAX_ROWS;
    }

    /** Forward calls that took the decode path so far in this JVM (for tests and benches). */
    public static long calls() {
        return CALLS.sum();
    }

    /** {@code name (reason)} of the chosen kernel, e.g. {@code vector-512 (jdk.incubator.vector present)}. */
    public static String describe() {
        return (CHOICE.kernel() == null ? "off" : CHOICE.kernel().name()) + " (" + CHOICE.reason() + ")";
    }

    /**
     * {@code x [..., w.cols()]} fp32 to {@code [..., w.rows()]} on {@code x}'s manager, plus {@code bias}
     * {@code [w.rows()]} when not null. Input and output are copied through Java arrays ({@code toFloatArray},
     * {@code create}): a few microseconds for decode-sized rows.
     */
    public static NDArray forward(QuantMatrix w, NDArray x, float[] bias) {
        if (CHOICE.kernel() == null || x.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("decode path needs an fp32 input and a kernel; kernel " + describe()
                    + ", input " + x.getDataType());
        }
        Shape in = x.getShape();
        int rows = Math.toIntExact(in.size() / w.cols());
        float[] y = new float[rows * w.rows()];
        rows(w, x.toFloatArray(), rows, y, bias);
        long[] out = in.getShape().clone(); // Shape.getShape() is its own array
        out[out.length - 1] = w.rows();
        return x.getManager().create(y, new Shape(out));
    }

    /**
     * {@code y [rows, w.rows()] = x [rows, w.cols()]·Wᵀ (+ bias)} on Java arrays with the chosen kernel (the row
     * kernel of quantized layers); {@code bias} may be null. Counts as one decode-path call.
     */
    public static void rows(QuantMatrix w, float[] x, int rows, float[] y, float[] bias) {
        if (CHOICE.kernel() == null) {
            throw new IllegalStateException("decode path is off: " + describe());
        }
        CALLS.increment();
        multiply(CHOICE.kernel(), w, x, rows, y);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < bias.length; o++) {
                    y[r * bias.length + o] += bias[o];
                }
            }
        }
    }

    /** {@link MatVecKernel#multiply} over all output features, split over the pool when the work is large enough. */
    public static void multiply(MatVecKernel kernel, QuantMatrix w, float[] x, int rows, float[] y) {
        int n = w.rows();
        int chunks = (long) rows * n * w.cols() < PARALLEL_MIN ? 1 : Math.min(CHUNKS, n);
        int per = (n + chunks - 1) / chunks;
        WORKERS.run(chunks, c -> kernel.multiply(w, x, rows, y, Math.min(n, c * per), Math.min(n, (c + 1) * per)));
    }

    /**
     * W in fp32, row-major, into {@code out[0 .. rows * cols)} (a direct buffer in practice) with the chosen kernel's
     * decoding, rows split over the workers: the values of the reference decoding (a zero may differ in sign). The
     * non-decode forward of a block layer (prefill, training) multiplies in libtorch from this.
     */
    public static void dequantize(QuantMatrix w, FloatBuffer out) {
        if (CHOICE.kernel() == null) {
            throw new IllegalStateException("decode path is off: " + describe());
        }
        MatVecKernel kernel = CHOICE.kernel();
        int n = w.rows();
        int cols = w.cols();
        int per = Math.max(1, Math.min(n, DECODE_CHUNK_FLOATS / cols));
        int chunks = (n + per - 1) / per;
        WORKERS.run(chunks, c -> {
            int from = c * per;
            int to = Math.min(n, from + per);
            float[] rows = DECODE_SCRATCH.get();
            if (rows.length < per * cols) {
                rows = new float[per * cols];
                DECODE_SCRATCH.set(rows);
            }
            kernel.decodeRows(w, from, to, rows);
            out.put(from * cols, rows, 0, (to - from) * cols);
        });
    }

    static Choice choose(String requested) {
        String want = requested.trim().toLowerCase(Locale.ROOT);
        Choice c = switch (want) {
            case "off" -> new Choice(null, "-D" + KERNEL_PROPERTY + "=off: quantized layers always dequantize and "
                    + "multiply in libtorch");
            case "scalar" -> new Choice(new ScalarMatVecKernel(), "-D" + KERNEL_PROPERTY + "=scalar");
            case "auto", "vector" -> vectorOrScalar();
            default -> throw new IllegalArgumentException("-D" + KERNEL_PROPERTY + "=" + requested
                    + " is not one of auto, vector, scalar, off");
        };
        LOG.info("decode matrix-vector kernel: {} ({}); up to {} rows, {} threads",
                c.kernel() == null ? "off" : c.kernel().name(), c.reason(),
                Integer.getInteger(MAX_ROWS_PROPERTY, DEFAULT_MAX_ROWS), SpinningWorkers.shared().workers() + 1);
        return c;
    }

    private static Choice vectorOrScalar() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return new Choice(new ScalarMatVecKernel(), "module jdk.incubator.vector not in the boot layer: start "
                    + "java with --add-modules jdk.incubator.vector (./peft4j does) for the SIMD kernel");
        }
        try {
            String why = VectorMatVecKernel.unsupported().orElse(null);
            if (why != null) {
                return new Choice(new ScalarMatVecKernel(), why);
            }
            return new Choice(new VectorMatVecKernel(), "jdk.incubator.vector present");
        } catch (LinkageError e) {
            return new Choice(new ScalarMatVecKernel(), "the Vector API failed to load: " + e);
        }
    }
}
