package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.quant.internal.StoredReader;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Loads a model whose projections are stored quantized (the transformers + bitsandbytes 4-bit layout, or
 * peft4j's INT8 variant of it): each {@code modulePath.weight} with a {@code quant_state} becomes a
 * {@link QuantizedLinear} over exactly the stored codes and scales (no re-quantization, no fp32 copy); any
 * projection stored dense (e.g. {@code lm_head}) stays fp32 through {@link DenseLinearFactory}. Works on a
 * {@link QuantizedTensorSource} or on the raw folder tensors. Counts what it loaded (thread-safe).
 *
 * <pre>{@code
 * try (Checkpoint ckpt = QuantizedCheckpoints.open(Path.of("smollm2-nf4"))) {
 *     LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), new StoredQuantLinearFactory(), manager);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class StoredQuantLinearFactory implements LinearLayerFactory {
    private final QuantizedLinear.Kernel kernel;
    private final AtomicLong parameters = new AtomicLong();
    private final AtomicLong storedBytes = new AtomicLong();

    /** With the Java dequantization kernel. */
    public StoredQuantLinearFactory() {
        this(QuantizedLinear.Kernel.JAVA);
    }

    public StoredQuantLinearFactory(QuantizedLinear.Kernel kernel) {
        if (kernel == null) {
            throw new IllegalArgumentException("kernel must not be null");
        }
        this.kernel = kernel;
    }

    @Override
    public LinearLayer create(String modulePath, TensorSource weights, NDManager manager)
            throws CheckpointFormatException {
        String name = modulePath + ".weight";
        QuantizedTensor q = stored(weights, name);
        if (q == null) {
            return DenseLinearFactory.INSTANCE.create(modulePath, weights, manager);
        }
        if (q.shape().length != 2) {
            throw new CheckpointFormatException(weights.path(), name, "quant_state shape must be 2-d [out, in], got "
                    + java.util.Arrays.toString(q.shape()));
        }
        NDArray bias = null;
        String biasName = modulePath + ".bias";
        if (weights.contains(biasName)) {
            bias = weights.load(biasName, manager);
            if (bias.size() != q.shape()[0]) {
                bias.close();
                throw new CheckpointFormatException(weights.path(), biasName, "bias has " + bias.size()
                        + " values, weight has " + q.shape()[0] + " rows");
            }
        }
        parameters.addAndGet(q.numel());
        storedBytes.addAndGet(q.storedBytes());
        return new QuantizedLinear(q, bias, kernel);
    }

    private static QuantizedTensor stored(TensorSource weights, String name) throws CheckpointFormatException {
        if (weights instanceof QuantizedTensorSource qs) {
            return qs.quantized(name).orElse(null);
        }
        Map<String, String> states = StoredReader.quantizedWeights(weights);
        String state = states.get(name);
        return state == null ? null : StoredReader.read(weights, name, state);
    }

    /** Parameters loaded quantized so far. */
    public long quantizedParameters() {
        return parameters.get();
    }

    /** Bytes the quantized weights keep (codes + scales). */
    public long quantizedBytes() {
        return storedBytes.get();
    }
}
