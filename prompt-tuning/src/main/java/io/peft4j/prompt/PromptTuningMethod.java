package io.peft4j.prompt;

import io.peft4j.core.ModelConfig;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.model.CausalLM;
import io.peft4j.prompt.internal.InitTokens;
import io.peft4j.prompt.internal.PromptTable;
import io.peft4j.prompt.internal.SoftPromptAdapter;

/**
 * The prompt-tuning {@link AdapterMethod} (peft_type {@code PROMPT_TUNING}; Lester et al. 2021, arXiv:2104.08691),
 * registered through {@code META-INF/services}: attaches a trainable {@code prompt_embeddings [P, hidden]} table
 * whose rows are prepended to every input, initialised as PEFT's {@code PromptEmbedding} does (RANDOM: standard
 * normal; SAMPLE_VOCAB: embedding rows of uniformly drawn token ids; TEXT: the init text's token embeddings, repeated
 * or truncated to P). With {@code inference_mode} the table starts at zero (weights come from a file).
 * Stateless and thread-safe.
 *
 * <pre>{@code
 * PeftModel peft = PeftModel.wrap(model);
 * peft.addAdapter("default", PromptTuningConfig.builder().setNumVirtualTokens(20).build(), 42L);
 * System.err.println(peft.trainableParameters());
 * }</pre>
 *
 * @since 0.1.0
 */
public final class PromptTuningMethod implements AdapterMethod {

    @Override
    public String peftType() {
        return PromptTuningConfig.PEFT_TYPE;
    }

    @Override
    public Class<? extends AdapterConfig> configType() {
        return PromptTuningConfig.class;
    }

    @Override
    public Adapter attach(CausalLM model, String name, AdapterConfig config, long seed) {
        if (!(config instanceof PromptTuningConfig pt)) {
            throw new IllegalArgumentException("prompt tuning cannot attach a " + config.peftType() + " config");
        }
        ModelConfig mc = model.config();
        PromptTuningConfig filled = pt.withModelDims(mc);
        int p = filled.numVirtualTokens();
        int h = mc.hiddenSize();
        PromptTable table = new PromptTable(model.manager(), initialValues(model, filled, seed), p, h);
        return new SoftPromptAdapter(name, filled, c -> c.withInferenceMode(true), table,
                SoftPromptAdapter.Injection.INPUT_EMBEDDINGS);
    }

    /** PEFT's {@code PromptEmbedding.__init__} initialisation, {@code [P * hidden]} floats. */
    static float[] initialValues(CausalLM model, PromptTuningConfig c, long seed) {
        int p = c.numVirtualTokens();
        int h = model.config().hiddenSize();
        if (c.inferenceMode()) {
            return new float[p * h];
        }
        return switch (c.promptTuningInit()) {
            case RANDOM -> InitTokens.normal(p, h, seed);
            case SAMPLE_VOCAB -> InitTokens.rows(model, InitTokens.sample(model.config().vocabSize(), p, seed));
            case TEXT -> InitTokens.rows(model, InitTokens.fit(textIds(c, model.config()), p));
        };
    }

    private static java.util.List<Integer> textIds(PromptTuningConfig c, ModelConfig mc) {
        if (c.initTokenIds() == null) {
            throw new IllegalArgumentException("prompt_tuning_init TEXT needs the tokenized prompt_tuning_init_text: "
                    + "build the config with PromptTuningConfig.builder().optPromptTuningInitText(text, tokenizer)");
        }
        if (mc.maxPositions() > 0 && c.initTokenIds().size() > mc.maxPositions()) {
            throw new IllegalArgumentException("invalid PROMPT_TUNING config: prompt_tuning_init_text has "
                    + c.initTokenIds().size() + " tokens, longer than the context window of " + mc.maxPositions());
        }
        return c.initTokenIds();
    }
}
