package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.internal.AdaptedModel;
import io.peft4j.core.adapter.internal.AdapterFiles;
import io.peft4j.core.adapter.internal.MergeAndUnload;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.VirtualTokens;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A frozen {@link CausalLM} with named adapters: add, load, activate, disable, delete, merge and save them.
 * The bookkeeping (which adapters are loaded, which are active) and its locking live in its
 * {@link AdapterRegistry}: {@link #forward} holds the registry's read lock and every change (hot-swapping the
 * active adapter while other threads generate) its write lock, so a forward never sees a half-applied swap.
 * It is itself a {@link CausalLM} (forwards and training apply the active adapters; everything else is the base
 * model's), so it can be passed wherever a model is expected. Closing it closes the adapters, not the base model.
 *
 * <pre>{@code
 * PeftModel peft = PeftModel.wrap(model);
 * peft.addAdapter("default", LoraConfig.builder().optR(8).build(), 42L);
 * try (var off = peft.disableAdapters()) { baseLogits = peft.forward(ids, null, null); }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class PeftModel implements CausalLM {
    /** PEFT's name for the first adapter; saved at the top of an adapter folder (others in sub-folders). */
    public static final String DEFAULT = "default";

    private final AdapterRegistry registry;

    private PeftModel(CausalLM model) {
        this.registry = new AdapterRegistry(model);
    }

    /** Wraps {@code model} (not copied, not owned). */
    public static PeftModel wrap(CausalLM model) {
        return new PeftModel(model);
    }

    /** The wrapped model (its projections are replaced by adapter wrappers while adapters are attached). */
    public CausalLM base() {
        return registry.model();
    }

    /** The loaded adapters and which are active (runtime hot-swap, thread-safe). */
    public AdapterRegistry registry() {
        return registry;
    }

    /** Architecture-and-shapes fingerprint of the base model stored in saved adapters. */
    public String fingerprint() {
        return registry.fingerprint();
    }

    /** Attaches a fresh adapter (initialised from {@code seed}) and makes it the only active one. */
    public Adapter addAdapter(String name, AdapterConfig config, long seed) {
        return registry.add(name, config, seed);
    }

    /**
     * Loads a PEFT adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors}) as {@code name}
     * and activates it.
     *
     * @throws AdapterMismatchException when its tensors or base fingerprint do not fit this model
     */
    public Adapter loadAdapter(Path dir, String name) throws PeftException {
        return registry.load(dir, name);
    }

    /**
     * Overwrites the weights of the attached adapter {@code name} with those saved in {@code dir} (a resume).
     *
     * @throws AdapterMismatchException when the saved tensors do not fit the attached adapter
     */
    public void loadAdapterWeights(String name, Path dir) throws PeftException {
        registry.loadWeights(name, dir);
    }

    /**
     * Saves every adapter in PEFT's layout: {@value #DEFAULT} (or the only adapter) directly in {@code dir}, any
     * other adapter in {@code dir/<name>}. Atomic per folder: a crash leaves the previous files.
     */
    public void save(Path dir) throws PeftException {
        save(dir, null);
    }

    /** {@link #save(Path)}, recording {@code provenance} (nullable) in each adapter's {@code __metadata__}. */
    public void save(Path dir, Provenance provenance) throws PeftException {
        Map<String, String> meta = provenance == null ? Map.of() : provenance.toMetadata();
        registry.<Void, PeftException>read(map -> {
            for (Adapter a : map.values()) {
                boolean top = a.name().equals(DEFAULT) || map.size() == 1;
                AdapterFiles.save(top ? dir : dir.resolve(a.name()), a, fingerprint(), base(), meta);
            }
            return null;
        });
    }

    /** Saves one adapter into {@code dir} (PEFT layout, atomic). */
    public void saveAdapter(String name, Path dir) throws PeftException {
        registry.<Void, PeftException>read(map -> {
            AdapterFiles.save(dir, AdapterRegistry.get(map, name), fingerprint(), base(), Map.of());
            return null;
        });
    }

    /** Makes exactly {@code names} active (runtime hot-swap); merged adapters that become inactive are unmerged. */
    public void setActiveAdapters(String... names) {
        registry.activate(names);
    }

    public List<String> activeAdapters() {
        return registry.active();
    }

    public Set<String> adapterNames() {
        return registry.names();
    }

    /** The adapter called {@code name}; {@link IllegalArgumentException} listing the known names otherwise. */
    public Adapter adapter(String name) {
        return registry.get(name);
    }

    /**
     * Turns every adapter off until the returned handle is closed, so forwards give the base model's outputs
     * (merged weights are bypassed, not modified). Closing restores the previous state exactly.
     */
    public AdaptersDisabled disableAdapters() {
        setEnabled(false);
        return new AdaptersDisabled(this);
    }

    void setEnabled(boolean enabled) {
        registry.write(map -> {
            map.values().forEach(a -> a.setEnabled(enabled));
            return null;
        });
    }

    /** Detaches and frees adapter {@code name}. */
    public void deleteAdapter(String name) {
        registry.unload(name);
    }

    /** Merges the active adapters into effective weights. */
    public void merge() {
        registry.write(map -> {
            for (Adapter a : map.values()) {
                if (a.isActive() && !a.isMerged()) {
                    if (!a.isMergeable()) {
                        throw new IllegalStateException("adapter '" + a.name() + "' (" + a.config().peftType()
                                + ") cannot be merged into weights");
                    }
                    a.merge();
                }
            }
            return null;
        });
    }

    /** Undoes {@link #merge()} exactly. */
    public void unmerge() {
        registry.write(map -> {
            map.values().stream().filter(Adapter::isMerged).forEach(Adapter::unmerge);
            return null;
        });
    }

    /**
     * Merges the active adapters, puts plain {@link DenseLinear} projections with the merged weights into the
     * model, writes active trainable copies of other weights (embedding, norms) into the stored weights, removes
     * every adapter and returns the bare model (this wrapper is then empty).
     */
    public CausalLM mergeAndUnload() {
        CausalLM model = base();
        return registry.write(map -> {
            merge();
            MergeAndUnload.run(model, map.values());
            map.clear();
            return model;
        });
    }

    /**
     * Logits {@code [B, T, vocab]} with the active adapters (see {@link CausalLM#forward}); holds the registry's
     * read lock. An active adapter that changes the model's inputs (a soft prompt) runs the forward itself.
     */
    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return registry.read(map -> {
            Adapter a = inputAdapter(map);
            return a != null ? a.forward(base(), inputIds, attentionMask, cache)
                    : base().forward(inputIds, attentionMask, cache);
        });
    }

    /** Logits {@code [B, vocab]} of the last position with the active adapters (see {@link CausalLM#forwardLast}). */
    @Override
    public NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return registry.read(map -> {
            Adapter a = inputAdapter(map);
            return a != null ? a.forward(base(), inputIds, attentionMask, cache).get(new NDIndex(":, -1, :"))
                    : base().forwardLast(inputIds, attentionMask, cache);
        });
    }

    /** Logits {@code [B, T, vocab]} from input embeddings with the active adapters (see {@link #forward}). */
    @Override
    public NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        return registry.read(map -> {
            Adapter a = inputAdapter(map);
            return a != null ? a.forwardEmbeddings(base(), inputEmbeddings, attentionMask, cache)
                    : base().forwardEmbeddings(inputEmbeddings, attentionMask, cache);
        });
    }

    /** The active adapter that wraps the forward (changes the inputs), or null. */
    private static Adapter inputAdapter(Map<String, Adapter> map) {
        for (Adapter a : map.values()) {
            if (a.isActive() && a.wrapsForward()) {
                return a;
            }
        }
        return null;
    }

    /**
     * This model with its active adapters as a {@link CausalLM}, for code that takes a model (the
     * {@link io.peft4j.core.generate.Generator}, the {@link io.peft4j.core.generate.PerplexityEvaluator}): every
     * forward goes through {@link #forward}, so adapters that wrap the forward (soft prompts) take part as well as
     * those that replace projections. The view owns nothing; closing it does nothing.
     *
     * <pre>{@code
     * peft.loadAdapter(Path.of("my-prompt"), "default");
     * String text = new Generator(peft.asCausalLM(), tokenizer).generate("Hello", config);
     * }</pre>
     */
    public CausalLM asCausalLM() {
        return new AdaptedModel(this);
    }

    /**
     * Logits {@code [B, T, vocab]} where row {@code i} uses adapter {@code adapterNames.get(i)} (PEFT's
     * {@code adapter_names}; {@value AdapterRegistry#BASE} for none), whatever is active: one forward over the base
     * with each adapter's delta added to its rows only. Inference only (see {@link #withAdapters}).
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache, List<String> adapterNames) {
        try (MixedAdapterModel m = withAdapters(adapterNames)) {
            return m.forward(inputIds, attentionMask, cache);
        }
    }

    /**
     * Training forward + backward with the active adapters (see {@link CausalLM#backward}); takes the read lock. An
     * active soft prompt hands its training {@link VirtualTokens} to the base model's own layer-by-layer path.
     */
    @Override
    public float backward(NDArray inputIds, NDArray attentionMask, Function<NDArray, NDArray> loss,
                          boolean checkpointActivations, long rngSeed) {
        return backward(inputIds, attentionMask, null, loss, checkpointActivations, rngSeed);
    }

    /**
     * {@link #backward(NDArray, NDArray, Function, boolean, long)} for packed rows (see
     * {@link CausalLM#backward(NDArray, NDArray, NDArray, Function, boolean, long)}); packing is refused while a soft
     * prompt is active (its virtual tokens come before a row, not before each packed sequence).
     */
    public float backward(NDArray inputIds, NDArray attentionMask, NDArray positionIds,
                          Function<NDArray, NDArray> loss, boolean checkpointActivations, long rngSeed) {
        CausalLM model = base();
        return registry.read(map -> {
            Adapter a = inputAdapter(map);
            if (a == null) {
                return model.backward(inputIds, attentionMask, positionIds, loss, checkpointActivations, rngSeed);
            }
            if (positionIds != null) {
                throw new IllegalStateException("packing does not support adapter '" + a.name() + "' ("
                        + a.config().peftType() + "), which puts virtual tokens before every row");
            }
            NDManager m = inputIds.getManager();
            Supplier<VirtualTokens> virtual = () -> {
                VirtualTokens v = a.virtualTokens(model, m, true);
                if (v == null) {
                    throw new IllegalStateException("adapter '" + a.name() + "' wraps the forward but gives no "
                            + "virtual tokens to train");
                }
                return v;
            };
            return model.backward(inputIds, attentionMask, null, virtual, loss, checkpointActivations, rngSeed);
        });
    }

    /** See {@link AdapterRegistry#withAdapters}: a model view with per-row adapters, for batched serving. */
    public MixedAdapterModel withAdapters(List<String> rowAdapters) {
        return registry.withAdapters(rowAdapters);
    }

    /** See {@link AdapterRegistry#withAdapter}: one adapter for every row, whatever is active (thread-safe). */
    public MixedAdapterModel withAdapter(String adapter) {
        return registry.withAdapter(adapter);
    }

    /** Training mode turns adapter dropout on. */
    public void setTraining(boolean training) {
        registry.setTraining(training);
    }

    /** The arrays of the active adapters that gradients flow into (live). */
    public List<NDArray> trainableArrays() {
        return registry.read(map -> {
            List<NDArray> out = new ArrayList<>();
            map.values().stream().filter(Adapter::isActive).forEach(a -> out.addAll(a.trainableParameters()));
            return out;
        });
    }

    /** Number of trainable scalars (active adapters). */
    public long trainableParameterCount() {
        return registry.read(map -> map.values().stream().filter(Adapter::isActive)
                .mapToLong(Adapter::parameterCount).sum());
    }

    /** Base parameters plus every adapter's. */
    public long allParameterCount() {
        return registry.read(map -> base().config().parameterCount() + map.values().stream()
                .mapToLong(Adapter::parameterCount).sum());
    }

    /** PEFT's {@code print_trainable_parameters} line: "trainable params: X || all params: Y || trainable%: Z". */
    public String trainableParameters() {
        long t = trainableParameterCount();
        return String.format(java.util.Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f", t,
                allParameterCount(), 100.0 * t / allParameterCount());
    }

    @Override
    public ModelConfig config() {
        return base().config();
    }

    @Override
    public NDManager manager() {
        return base().manager();
    }

    @Override
    public NDArray embed(NDArray inputIds) {
        return base().embed(inputIds);
    }

    @Override
    public Map<String, LinearLayer> linearLayers() {
        return base().linearLayers();
    }

    /** Refused: adapters replace layers through this model's methods, not directly. */
    @Override
    public LinearLayer replaceLinear(String modulePath, LinearLayer layer) {
        throw new IllegalStateException("change layers on PeftModel.base(), not on the PeftModel");
    }

    @Override
    public Map<String, NDArray> otherWeights() {
        return base().otherWeights();
    }

    @Override
    public Supplier<NDArray> weightOverride(String name) {
        return base().weightOverride(name);
    }

    @Override
    public KvCache newKvCache(int batchSize) {
        return base().newKvCache(batchSize);
    }

    /** Detaches every adapter (the base model stays open). */
    @Override
    public void close() {
        registry.close();
    }
}
