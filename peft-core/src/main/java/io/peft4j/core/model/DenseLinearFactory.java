package io.peft4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.TensorSource;

/**
 * The default {@link LinearLayerFactory}: reads {@code path.weight} (and {@code path.bias} when present) as fp32
 * into a frozen {@link DenseLinear}.
 *
 * <pre>{@code
 * LlamaModel model = LlamaModel.load(config, tensors, DenseLinearFactory.INSTANCE, manager);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class DenseLinearFactory implements LinearLayerFactory {
    /** The shared, stateless instance. */
    public static final DenseLinearFactory INSTANCE = new DenseLinearFactory();

    private DenseLinearFactory() {
    }

    @Override
    public LinearLayer create(String modulePath, TensorSource weights, NDManager manager)
            throws CheckpointFormatException {
        String weightName = modulePath + ".weight";
        if (!weights.contains(weightName)) {
            throw new CheckpointFormatException(weights.path(), weightName, "missing from the checkpoint");
        }
        long[] shape = weights.shape(weightName);
        if (shape.length != 2) {
            throw new CheckpointFormatException(weights.path(), weightName,
                    "expected a 2-d [out, in] weight, got " + shape.length + " dims");
        }
        NDArray weight = weights.loadWeight(weightName, manager);
        String biasName = modulePath + ".bias";
        NDArray bias = weights.contains(biasName) ? weights.loadWeight(biasName, manager) : null;
        if (bias != null && bias.size() != shape[0]) {
            weight.close();
            bias.close();
            throw new CheckpointFormatException(weights.path(), biasName,
                    "bias has " + bias.size() + " values, weight has " + shape[0] + " rows");
        }
        return new DenseLinear(weight, bias);
    }
}
