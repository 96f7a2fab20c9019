package io.peft4j.core.model;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.PeftException;
import io.peft4j.core.UnsupportedModelException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.checkpoint.TensorSource;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * The registry of {@link ModelFamily}s on the class path: a checkpoint loads only when a family claims its
 * {@code model_type} or {@code architectures}; anything else is refused with one line listing what is supported
 * (never silently computed with another family's maths).
 * <pre>{@code
 * CausalLM model = ModelFamilies.load(ckpt.config(), ckpt.tensors(), DenseLinearFactory.INSTANCE, manager);
 * }</pre>
 * Thread-safe: the families are loaded once.
 *
 * @since 0.1.0
 */
public final class ModelFamilies {
    private static final List<ModelFamily> FAMILIES = discover();

    private ModelFamilies() {
    }

    private static List<ModelFamily> discover() {
        List<ModelFamily> found = new ArrayList<>();
        ServiceLoader.load(ModelFamily.class, ModelFamily.class.getClassLoader()).forEach(found::add);
        return List.copyOf(found);
    }

    /** Every family on the class path. */
    public static List<ModelFamily> all() {
        return FAMILIES;
    }

    /**
     * The family that computes {@code config}, matched on {@code model_type} first, then on the architecture.
     *
     * @throws UnsupportedModelException when no family claims it; the message lists the supported ones
     */
    public static ModelFamily of(ModelConfig config) throws UnsupportedModelException {
        for (ModelFamily f : FAMILIES) {
            if (f.modelTypes().contains(config.modelType())) {
                return f;
            }
        }
        for (ModelFamily f : FAMILIES) {
            if (f.architectures().contains(config.architecture())) {
                return f;
            }
        }
        throw new UnsupportedModelException("unsupported model: model_type '" + config.modelType()
                + "', architecture '" + config.architecture() + "'; supported: " + supported());
    }

    /** {@code of(config).load(...)}. */
    public static CausalLM load(ModelConfig config, TensorSource weights, LinearLayerFactory factory,
                                NDManager parent) throws PeftException {
        return of(config).load(config, weights, factory, parent);
    }

    /** One line naming each family with its model types, e.g. {@code llama (llama, mistral, qwen2)}. */
    public static String supported() {
        List<String> parts = new ArrayList<>();
        for (ModelFamily f : FAMILIES) {
            parts.add(f.name() + " (" + String.join(", ", new TreeSet<>(f.modelTypes())) + ")");
        }
        return parts.isEmpty() ? "none (no ModelFamily on the class path)" : String.join("; ", parts);
    }
}
