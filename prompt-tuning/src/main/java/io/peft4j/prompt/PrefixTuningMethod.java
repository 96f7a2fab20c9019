package io.peft4j.prompt;

import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.model.CausalLM;
import io.peft4j.prompt.internal.InitTokens;
import io.peft4j.prompt.internal.PrefixProjectionEncoder;
import io.peft4j.prompt.internal.PromptSource;
import io.peft4j.prompt.internal.PromptTable;
import io.peft4j.prompt.internal.SoftPromptAdapter;

/**
 * The prefix-tuning {@link AdapterMethod} (peft_type {@code PREFIX_TUNING}; Li &amp; Liang 2021, arXiv:2101.00190),
 * registered through {@code META-INF/services}: every attention layer gets {@code num_virtual_tokens} trainable key
 * and value positions before the input. Without {@code prefix_projection} the trainable array is the prefix itself,
 * {@code prompt_embeddings [P, layers·2·token_dim]} (torch {@code nn.Embedding} init: standard normal, or zeros with
 * {@code init_weights="zero"}); with it, PEFT's tanh MLP over a {@code [P, token_dim]} table, saved as its output.
 * With {@code inference_mode} (every adapter file PEFT or peft4j writes) the prefix comes from the file. Training and
 * evaluation keep the prefix in the graph; generation copies it into the KV cache once, at prefill. Stateless and
 * thread-safe.
 *
 * <pre>{@code
 * peft.addAdapter("default", PrefixTuningConfig.builder().setNumVirtualTokens(20).build(), 42L);
 * peft.save(Path.of("my-prefix"));   // prompt_embeddings [20, layers·2·token_dim], as PEFT writes it
 * }</pre>
 *
 * @since 0.1.0
 */
public final class PrefixTuningMethod implements AdapterMethod {

    @Override
    public String peftType() {
        return PrefixTuningConfig.PEFT_TYPE;
    }

    @Override
    public Class<? extends AdapterConfig> configType() {
        return PrefixTuningConfig.class;
    }

    @Override
    public Adapter attach(CausalLM model, String name, AdapterConfig config, long seed) {
        if (!(config instanceof PrefixTuningConfig pc)) {
            throw new IllegalArgumentException("prefix tuning cannot attach a " + config.peftType() + " config");
        }
        PrefixTuningConfig filled = pc.withModelDims(model.config());
        int p = filled.numVirtualTokens();
        int width = filled.prefixWidth();
        boolean zero = "zero".equals(filled.initWeights());
        PromptSource source;
        if (filled.inferenceMode() || !filled.prefixProjection()) {
            float[] values = filled.inferenceMode() || zero ? new float[p * width] : InitTokens.normal(p, width, seed);
            source = new PromptTable(model.manager(), values, p, width);
        } else {
            source = new PrefixProjectionEncoder(model.manager(), p, filled.tokenDim(), filled.encoderHiddenSize(),
                    width, zero, seed);
        }
        return new SoftPromptAdapter(name, filled, c -> c.withInferenceMode(true), source,
                SoftPromptAdapter.Injection.ATTENTION_PREFIX);
    }
}
