package io.peft4j.core.model;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.checkpoint.TensorSource;

import java.util.Set;

/**
 * One family of decoder architectures computed by the same maths (the LLaMA family: Llama, Mistral, Qwen2,
 * SmolLM, ...). Found by {@link java.util.ServiceLoader} (one {@code META-INF/services} line per family) and chosen
 * by {@link ModelFamilies#of(ModelConfig)} from a checkpoint's {@code architectures} / {@code model_type} (GGUF:
 * {@code general.architecture}).
 * <pre>{@code
 * ModelFamily family = ModelFamilies.of(checkpoint.config());
 * CausalLM model = family.load(checkpoint.config(), checkpoint.tensors(), DenseLinearFactory.INSTANCE, manager);
 * }</pre>
 * Implementations are stateless and thread-safe.
 *
 * @since 0.1.0
 */
public interface ModelFamily {

    /** Short name used in messages, e.g. {@code llama}. */
    String name();

    /** Hugging Face {@code architectures[0]} values this family computes, e.g. {@code LlamaForCausalLM}. */
    Set<String> architectures();

    /** {@code model_type} values (also GGUF {@code general.architecture}) this family computes, e.g. {@code llama}. */
    Set<String> modelTypes();

    /** Builds the model; projections come from {@code factory}, arrays live in a sub-manager of {@code parent}. */
    CausalLM load(ModelConfig config, TensorSource weights, LinearLayerFactory factory, NDManager parent)
            throws CheckpointFormatException;

    /** A model of this family with seeded random weights (same seed, same weights), for tests and benchmarks. */
    CausalLM random(ModelConfig config, long seed, NDManager parent);
}
