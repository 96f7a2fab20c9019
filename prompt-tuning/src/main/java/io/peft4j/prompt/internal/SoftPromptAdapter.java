package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.VirtualTokens;
import io.peft4j.core.model.block.KeyValues;
import io.peft4j.core.model.block.PrefixKeyValues;
import io.peft4j.prompt.PromptLearningConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A soft-prompt adapter: while active, every forward that starts a sequence puts the {@link PromptSource}'s P virtual
 * tokens before the input, in one of two ways ({@link Injection}):
 * <ul>
 *   <li>{@link Injection#INPUT_EMBEDDINGS} (prompt tuning, P-tuning): the rows {@code [P, H]} are prepended to the
 *       input embeddings {@code [B, T, H]}, the attention mask gets P ones (virtual tokens are real tokens to the
 *       model, so positions count them, as PEFT's do), and the logits of the caller's T positions are returned;</li>
 *   <li>{@link Injection#ATTENTION_PREFIX} (prefix tuning): the rows {@code [P, layers·2·token_dim]} are split, as
 *       PEFT's {@code get_prompt} splits them, into each layer's keys and values {@code [kvHeads, P, D]}, which every
 *       attention layer sees before the input ({@link PrefixKeyValues}).</li>
 * </ul>
 * With a KV cache the prompt goes in at prefill (an empty cache) only; later steps find it cached. The base model is
 * never changed. Not thread-safe: its {@code PeftModel} serialises calls.
 *
 * <pre>{@code
 * Adapter a = AdapterMethod.forPeftType("PROMPT_TUNING").attach(model, "default", config, 42L);
 * a.setActive(true);
 * NDArray logits = a.forward(model, ids, null, null);   // [B, T, vocab], the virtual positions stripped
 * }</pre>
 */
public final class SoftPromptAdapter implements Adapter {
    private final String name;
    private final PromptLearningConfig config;
    private final UnaryOperator<PromptLearningConfig> savedForm;
    private final PromptSource source;
    private final Injection injection;
    private boolean active;
    private boolean enabled = true;
    private boolean training;

    /**
     * @param config    the attached config (model dimensions filled)
     * @param savedForm how {@code config} is written to {@code adapter_config.json} (PEFT writes
     *                  {@code inference_mode: true})
     */
    public SoftPromptAdapter(String name, PromptLearningConfig config,
                             UnaryOperator<PromptLearningConfig> savedForm, PromptSource source, Injection injection) {
        this.name = name;
        this.config = config;
        this.savedForm = savedForm;
        this.source = source;
        this.injection = injection;
    }

    /** Where the virtual tokens enter the model. */
    public enum Injection {
        /** Prepended to the input embeddings (prompt tuning, P-tuning). */
        INPUT_EMBEDDINGS,
        /** Every attention layer's past keys and values (prefix tuning). */
        ATTENTION_PREFIX
    }

    @Override
    public NDArray forward(CausalLM base, NDArray inputIds, NDArray attentionMask, KvCache cache) {
        if (!applies(cache)) {
            return base.forward(inputIds, attentionMask, cache);
        }
        return forwardEmbeddings(base, base.embed(inputIds), attentionMask, cache);
    }

    @Override
    public NDArray forwardEmbeddings(CausalLM base, NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        if (!applies(cache)) {
            return base.forwardEmbeddings(inputEmbeddings, attentionMask, cache);
        }
        return virtualTokens(base, inputEmbeddings.getManager(), training)
                .forward(base, inputEmbeddings, attentionMask, cache);
    }

    /**
     * PEFT's split of the prefix rows: {@code [P, layers·2·token_dim]} viewed as {@code [P, layers·2, kvHeads, D]},
     * permuted to {@code [layers·2, kvHeads, P, D]}; layer {@code l}'s keys are slice {@code 2l}, its values
     * {@code 2l + 1}, each given a batch axis of 1.
     */
    private static PrefixKeyValues prefix(NDArray prompts, CausalLM base, NDManager m) {
        ModelConfig mc = base.config();
        int p = Math.toIntExact(prompts.getShape().get(0));
        NDArray split = attach(attach(prompts.reshape(p, 2L * mc.numLayers(), mc.numKvHeads(), mc.headDim()), m)
                .transpose(1, 2, 0, 3), m);
        List<KeyValues> layers = new ArrayList<>(mc.numLayers());
        for (int l = 0; l < mc.numLayers(); l++) {
            layers.add(new KeyValues(attach(attach(split.get(2 * l), m).expandDims(0), m),
                    attach(attach(split.get(2 * l + 1), m).expandDims(0), m)));
        }
        return new PrefixKeyValues(layers);
    }

    private static NDArray attach(NDArray a, NDManager m) {
        a.attach(m);
        return a;
    }

    /** Whether this forward gets the prompt: active, enabled, and starting a sequence (no or an empty cache). */
    private boolean applies(KvCache cache) {
        return active && enabled && (cache == null || cache.length() == 0);
    }

    @Override
    public boolean wrapsForward() {
        return true;
    }

    /** Rows of a mixed batch may use this soft prompt: {@link #virtualTokens} is what they get first. */
    @Override
    public boolean supportsMixedBatch() {
        return true;
    }

    /**
     * The prompt rows, or the per-layer prefix, with dropout when {@code training} (in training, call it inside the
     * step's gradient recording: gradients reach the prompt table or its encoder).
     */
    @Override
    public VirtualTokens virtualTokens(CausalLM model, NDManager manager, boolean training) {
        NDArray prompts = source.prompts(training);
        if (injection == Injection.ATTENTION_PREFIX) {
            return new VirtualTokens(null, prefix(prompts, model, manager));
        }
        return new VirtualTokens(prompts, null);
    }

    @Override
    public String savedKeyPrefix() {
        return "";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public AdapterConfig config() {
        return config;
    }

    /** The config as PEFT writes it ({@code inference_mode: true}). */
    @Override
    public AdapterConfig savedConfig() {
        return savedForm.apply(config);
    }

    @Override
    public Set<String> modulePaths() {
        return Set.of();
    }

    @Override
    public List<NDArray> trainableParameters() {
        return source.trainableParameters();
    }

    @Override
    public long parameterCount() {
        return source.parameterCount();
    }

    @Override
    public Map<String, NDArray> stateDict() {
        return source.stateDict();
    }

    @Override
    public void onStateLoaded() {
        source.onStateLoaded();
    }

    @Override
    public boolean savedFormIsTrainingState() {
        return source.savedFormIsTrainingState();
    }

    @Override
    public void setActive(boolean active) {
        this.active = active;
    }

    @Override
    public boolean isActive() {
        return active;
    }

    @Override
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }

    @Override
    public boolean isMergeable() {
        return false;
    }

    @Override
    public void merge() {
        throw new IllegalStateException("a " + config.peftType() + " adapter changes the inputs and cannot be merged");
    }

    @Override
    public void unmerge() {
        // never merged
    }

    @Override
    public boolean isMerged() {
        return false;
    }

    /** Frees the prompt arrays; the base model was never changed. */
    @Override
    public void close() {
        source.close();
    }
}
