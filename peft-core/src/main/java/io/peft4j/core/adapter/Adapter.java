package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.VirtualTokens;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One named adapter attached to a model by an {@link AdapterMethod}. It owns its trainable arrays; closing it
 * detaches it (the model's original projections come back) and frees them. {@link PeftModel} drives it and
 * serialises calls; an adapter on its own is not thread-safe.
 *
 * <pre>{@code
 * Adapter a = AdapterMethod.forPeftType("LORA").attach(model, "default", config, 42L);
 * a.setActive(true);
 * Map<String, NDArray> weights = a.stateDict();   // "model.layers.0.self_attn.q_proj.lora_A.weight" -> [r, in]
 * }</pre>
 *
 * @since 0.1.0
 */
public interface Adapter extends AutoCloseable {

    String name();

    AdapterConfig config();

    /** Module paths this adapter changes (e.g. {@code model.layers.0.self_attn.q_proj}). */
    Set<String> modulePaths();

    /** The arrays gradients flow into (live, not copies). */
    List<NDArray> trainableParameters();

    /** Number of scalar parameters this adapter adds. */
    long parameterCount();

    /**
     * Live arrays under PEFT's saved key names relative to the model root and without the adapter name, e.g.
     * {@code model.layers.0.self_attn.q_proj.lora_A.weight}. Loading copies file tensors into these arrays.
     */
    Map<String, NDArray> stateDict();

    /** Called after {@link #stateDict()} arrays were overwritten (a load), so cached derived weights are rebuilt. */
    void onStateLoaded();

    void setActive(boolean active);

    boolean isActive();

    /** Enables or disables the adapter for every forward without changing which adapters are active. */
    void setEnabled(boolean enabled);

    /** Training mode turns dropout on. */
    void setTraining(boolean training);

    /** Whether {@link #merge()} is supported (methods that only change inputs are not mergeable). */
    boolean isMergeable();

    /** Folds the adapter into effective weights; forward results stay the same up to rounding. */
    void merge();

    /** Exactly restores the unmerged state. */
    void unmerge();

    boolean isMerged();

    /**
     * Forward hook for methods that change the model's inputs (soft prompts). Adapters that only wrap
     * projections keep the default, which runs the model as is.
     */
    default NDArray forward(CausalLM model, NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return model.forward(inputIds, attentionMask, cache);
    }

    /**
     * Same as {@link #forward} but from input embeddings {@code [B, T, hidden]} (see
     * {@link CausalLM#forwardEmbeddings}): the hook for methods that change the model's inputs (soft prompts prepend
     * rows here, extend the mask and return logits of the caller's {@code T} positions only). The default runs the
     * model as is.
     */
    default NDArray forwardEmbeddings(CausalLM model, NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        return model.forwardEmbeddings(inputEmbeddings, attentionMask, cache);
    }

    /**
     * The config as written to {@code adapter_config.json}; {@link #config()} by default. Prompt-learning methods
     * write {@code inference_mode: true} as PEFT's {@code save_pretrained} does.
     */
    default AdapterConfig savedConfig() {
        return config();
    }

    /**
     * Prefix of this adapter's {@link #stateDict()} keys in {@code adapter_model.safetensors}: PEFT's
     * {@code base_model.model.} for module weights (the default); prompt-learning methods save top-level keys such as
     * {@code prompt_embeddings} and return {@code ""}.
     */
    default String savedKeyPrefix() {
        return "base_model.model.";
    }

    /**
     * Whether the saved form ({@link #stateDict()}) is all that training needs to resume. False for P-tuning, whose
     * file holds the prompt encoder's output while training updates the encoder: a training checkpoint then also
     * stores {@link #trainableParameters()} themselves.
     */
    default boolean savedFormIsTrainingState() {
        return true;
    }

    /** True when {@link #forward} and {@link #forwardEmbeddings} are overridden and must be used while active. */
    default boolean wrapsForward() {
        return false;
    }

    /**
     * Whether this adapter can serve some rows of a batch while other rows use other adapters: its layers read
     * {@link AdapterRouting#current()} during a forward and apply themselves to their rows only.
     */
    default boolean supportsMixedBatch() {
        return false;
    }

    /**
     * For adapters that change the model's inputs (soft prompts): the virtual tokens this adapter puts before every
     * sequence. For inference ({@code training} false, no dropout) a mixed batch places them before the rows that
     * name this adapter; for training (dropout as configured) {@link PeftModel#backward} computes them inside the
     * step's gradient recording and hands them to {@link CausalLM#backward(NDArray, NDArray, NDArray,
     * java.util.function.Supplier, java.util.function.Function, boolean, long)}, so the base model's own training
     * path (fused loss, activation checkpointing) serves soft prompts too. Arrays it creates belong to
     * {@code manager}. Null (the default) for adapters that change only projections.
     */
    default VirtualTokens virtualTokens(CausalLM model, NDManager manager, boolean training) {
        return null;
    }

    /** Detaches from the model and frees the adapter's arrays. */
    @Override
    void close();
}
