package io.peft4j.prompt;

import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.model.CausalLM;
import io.peft4j.prompt.internal.LstmPromptEncoder;
import io.peft4j.prompt.internal.MlpPromptEncoder;
import io.peft4j.prompt.internal.PromptSource;
import io.peft4j.prompt.internal.PromptTable;
import io.peft4j.prompt.internal.SoftPromptAdapter;

/**
 * The P-tuning {@link AdapterMethod} (peft_type {@code P_TUNING}; Liu et al. 2021, arXiv:2103.10385), registered
 * through {@code META-INF/services}. A fresh adapter trains an MLP prompt encoder over a virtual-token table (PEFT's
 * {@code PromptEncoder}); with {@code inference_mode} (every adapter file PEFT or peft4j writes) the adapter is just
 * the saved table {@code prompt_embeddings}, as PEFT loads it. The encoder is PEFT's MLP (default) or its
 * bidirectional LSTM + MLP head ({@code encoder_reparameterization_type} LSTM). Stateless, thread-safe.
 *
 * <pre>{@code
 * peft.addAdapter("default", PromptEncoderConfig.builder().setNumVirtualTokens(20).setEncoderHiddenSize(128).build(), 42L);
 * peft.save(Path.of("my-p-tuning"));   // prompt_embeddings = the encoder's output
 * }</pre>
 *
 * @since 0.1.0
 */
public final class PTuningMethod implements AdapterMethod {

    @Override
    public String peftType() {
        return PromptEncoderConfig.PEFT_TYPE;
    }

    @Override
    public Class<? extends AdapterConfig> configType() {
        return PromptEncoderConfig.class;
    }

    @Override
    public Adapter attach(CausalLM model, String name, AdapterConfig config, long seed) {
        if (!(config instanceof PromptEncoderConfig pc)) {
            throw new IllegalArgumentException("P-tuning cannot attach a " + config.peftType() + " config");
        }
        PromptEncoderConfig filled = pc.withModelDims(model.config());
        int p = filled.numVirtualTokens();
        int h = model.config().hiddenSize();
        PromptSource source;
        if (filled.inferenceMode()) {
            source = new PromptTable(model.manager(), new float[p * h], p, h);
        } else {
            if (filled.encoderHiddenSize() == null) {
                throw new IllegalArgumentException("invalid P_TUNING config: encoder_hidden_size is required to train");
            }
            int e = filled.encoderHiddenSize();
            source = filled.encoderReparameterizationType() == EncoderReparameterizationType.LSTM
                    ? new LstmPromptEncoder(model.manager(), p, h, e, filled.encoderNumLayers(),
                    filled.encoderDropout(), seed)
                    : new MlpPromptEncoder(model.manager(), p, h, e, seed);
        }
        return new SoftPromptAdapter(name, filled, c -> c.withInferenceMode(true), source,
                SoftPromptAdapter.Injection.INPUT_EMBEDDINGS);
    }
}
