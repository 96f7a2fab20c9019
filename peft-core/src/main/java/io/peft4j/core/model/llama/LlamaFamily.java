package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.ModelFamily;

import java.util.Set;

/**
 * The LLaMA family as a {@link ModelFamily}: architectures whose forward is exactly {@link LlamaModel}'s
 * (pre-norm RMSNorm, rotary GQA attention with optional q/k/v bias, SwiGLU, tied or separate lm_head).
 * Registered in {@code META-INF/services/io.peft4j.core.model.ModelFamily}.
 * <pre>{@code
 * CausalLM model = ModelFamilies.load(config, tensors, DenseLinearFactory.INSTANCE, manager);  // picks this family
 * }</pre>
 *
 * @since 0.1.0
 */
public final class LlamaFamily implements ModelFamily {

    @Override
    public String name() {
        return "llama";
    }

    @Override
    public Set<String> architectures() {
        return Set.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("llama", "mistral", "qwen2");
    }

    @Override
    public CausalLM load(ModelConfig config, TensorSource weights, LinearLayerFactory factory, NDManager parent)
            throws CheckpointFormatException {
        return LlamaModel.load(config, weights, factory, parent);
    }

    @Override
    public CausalLM random(ModelConfig config, long seed, NDManager parent) {
        return LlamaModel.random(config, seed, parent);
    }
}
