package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Quantize-on-load: builds a {@link QuantizedLinear} for each projection while the model streams in, reading
 * {@code modulePath + ".weight"} as fp32 into one reused buffer (sized to the largest weight, kept while the factory
 * is referenced) and quantizing it, so peak memory is the quantized model plus one fp32 weight and loading leaves no
 * per-tensor garbage (QLoRA, arXiv 2305.14314). Modules whose last path segment is in
 * {@code skipModules} (default {@code lm_head}, as transformers + bitsandbytes keep it) stay fp32 through
 * {@link DenseLinearFactory}; embeddings and norms never come through a factory and stay fp32. Biases stay fp32.
 * Counts what it quantized (thread-safe counters).
 *
 * <pre>{@code
 * QuantizingLinearFactory nf4 = new QuantizingLinearFactory(QuantConfig.nf4DoubleQuant());
 * LlamaModel model = LlamaModel.load(config, tensors, nf4, manager);
 * double bpp = nf4.bytesPerParam();   // over the quantized weights only
 * }</pre>
 *
 * @since 0.1.0
 */
public final class QuantizingLinearFactory implements LinearLayerFactory {
    /** transformers' default {@code llm_int8_skip_modules} for causal LMs. */
    public static final Set<String> DEFAULT_SKIP = Set.of("lm_head");
    private static final Logger LOG = LoggerFactory.getLogger(QuantizingLinearFactory.class);

    private final QuantConfig config;
    private final Set<String> skipModules;
    private final QuantizedLinear.Kernel kernel;
    private final AtomicLong parameters = new AtomicLong();
    private final AtomicLong storedBytes = new AtomicLong();
    /** fp32 read buffer reused for every weight (grown to the largest); guarded by {@code this}. */
    private float[] scratch = new float[0];

    /** Quantizes every projection except {@link #DEFAULT_SKIP}, with the Java dequantization kernel. */
    public QuantizingLinearFactory(QuantConfig config) {
        this(config, DEFAULT_SKIP, QuantizedLinear.Kernel.JAVA);
    }

    /** @param skipModules last module-path segments kept fp32 (e.g. {@code lm_head}); may be empty */
    public QuantizingLinearFactory(QuantConfig config, Set<String> skipModules, QuantizedLinear.Kernel kernel) {
        if (config == null || skipModules == null || kernel == null) {
            throw new IllegalArgumentException("config, skipModules and kernel must not be null");
        }
        this.config = config;
        this.skipModules = Set.copyOf(skipModules);
        this.kernel = kernel;
    }

    /**
     * The factory for a {@code --quantize} choice: {@code none} → {@link DenseLinearFactory#INSTANCE};
     * {@code nf4} → QLoRA's recipe (NF4, block 64, double quantization); {@code fp4} and {@code int8} → block 64
     * without double quantization (case-insensitive).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static LinearLayerFactory forType(String type) {
        if (type == null || "none".equalsIgnoreCase(type)) {
            return DenseLinearFactory.INSTANCE;
        }
        QuantType t = QuantType.parse(type);
        return new QuantizingLinearFactory(t == QuantType.NF4 ? QuantConfig.nf4DoubleQuant() : QuantConfig.of(t));
    }

    @Override
    public LinearLayer create(String modulePath, TensorSource weights, NDManager manager)
            throws CheckpointFormatException {
        String leaf = modulePath.substring(modulePath.lastIndexOf('.') + 1);
        if (skipModules.contains(leaf) || skipModules.contains(modulePath)) {
            return DenseLinearFactory.INSTANCE.create(modulePath, weights, manager);
        }
        String name = modulePath + ".weight";
        if (!weights.contains(name)) {
            throw new CheckpointFormatException(weights.path(), name, "missing from the checkpoint");
        }
        long[] shape = weights.shape(name);
        if (shape.length != 2) {
            throw new CheckpointFormatException(weights.path(), name, "expected a 2-d [out, in] weight, got "
                    + shape.length + " dims");
        }
        QuantizedTensor q;
        try {
            q = quantize(name, shape, weights);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CheckpointFormatException(weights.path(), name, e.getMessage());
        }
        NDArray bias = bias(modulePath, weights, manager, shape[0]);
        parameters.addAndGet(q.numel());
        storedBytes.addAndGet(q.storedBytes());
        LOG.debug("quantized {} {} to {} ({} bytes)", name, shape, config.type().bnbName(), q.storedBytes());
        return new QuantizedLinear(q, bias, kernel);
    }

    /** Reads {@code name} into the reused buffer and quantizes it: the only fp32 copy is that buffer. */
    private synchronized QuantizedTensor quantize(String name, long[] shape, TensorSource weights)
            throws CheckpointFormatException {
        int n = Math.toIntExact(Math.multiplyExact(shape[0], shape[1]));
        if (scratch.length < n) {
            scratch = new float[n];
        }
        weights.readFloats(name, scratch);
        return Quantizer.quantizePrefix(name, scratch, shape, config);
    }

    private static NDArray bias(String modulePath, TensorSource weights, NDManager manager, long rows)
            throws CheckpointFormatException {
        String biasName = modulePath + ".bias";
        if (!weights.contains(biasName)) {
            return null;
        }
        NDArray bias = weights.load(biasName, manager);
        if (bias.size() != rows) {
            bias.close();
            throw new CheckpointFormatException(weights.path(), biasName, "bias has " + bias.size()
                    + " values, weight has " + rows + " rows");
        }
        return bias;
    }

    public QuantConfig config() {
        return config;
    }

    /** Parameters quantized so far. */
    public long quantizedParameters() {
        return parameters.get();
    }

    /** Bytes the quantized weights keep (codes + scales). */
    public long quantizedBytes() {
        return storedBytes.get();
    }

    /** {@link #quantizedBytes} / {@link #quantizedParameters}, or 0 before anything was quantized. */
    public double bytesPerParam() {
        long p = parameters.get();
        return p == 0 ? 0 : (double) storedBytes.get() / p;
    }
}
