package io.peft4j.core.adapter;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.PeftException;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * A frozen {@link CausalLM} with named adapters: add, load, activate, disable, delete, merge and save them.
 * Thread-safe: {@link #forward} takes a read lock and every change (hot-swapping the active adapter while
 * other threads generate) takes the write lock, so a forward never sees a half-applied swap.
 * Closing it closes the adapters, not the base model.
 *
 * <pre>{@code
 * PeftModel peft = PeftModel.wrap(model);
 * peft.addAdapter("default", LoraConfig.builder().optR(8).build(), 42L);
 * try (var off = peft.disableAdapters()) { baseLogits = peft.forward(ids, null, null); }
 * }</pre>
 */
public final class PeftModel implements AutoCloseable {
    /** PEFT's name for the first adapter; saved at the top of an adapter folder (others in sub-folders). */
    public static final String DEFAULT = "default";
    private static final Logger LOG = LoggerFactory.getLogger(PeftModel.class);

    private final CausalLM model;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String fingerprint;
    private boolean training;

    private PeftModel(CausalLM model) {
        this.model = model;
        this.fingerprint = BaseFingerprint.of(model);
    }

    /** Wraps {@code model} (not copied, not owned). */
    public static PeftModel wrap(CausalLM model) {
        return new PeftModel(model);
    }

    /** The wrapped model (its projections are replaced by adapter wrappers while adapters are attached). */
    public CausalLM base() {
        return model;
    }

    /** Architecture-and-shapes fingerprint of the base model stored in saved adapters. */
    public String fingerprint() {
        return fingerprint;
    }

    /** Attaches a fresh adapter (initialised from {@code seed}) and makes it the only active one. */
    public Adapter addAdapter(String name, AdapterConfig config, long seed) {
        lock.writeLock().lock();
        try {
            requireNewName(name);
            Adapter a = AdapterMethod.forPeftType(config.peftType()).attach(model, name, config, seed);
            a.setTraining(training);
            adapters.put(name, a);
            activateOnly(List.of(name));
            LOG.info("added {} adapter '{}' ({} parameters)", config.peftType(), name, a.parameterCount());
            return a;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Loads a PEFT adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors}) as {@code name}
     * and activates it.
     *
     * @throws AdapterMismatchException when its tensors or base fingerprint do not fit this model
     */
    public Adapter loadAdapter(Path dir, String name) throws PeftException {
        AdapterConfig config = AdapterConfig.read(dir.resolve(AdapterFiles.CONFIG));
        lock.writeLock().lock();
        try {
            requireNewName(name);
            Adapter a = AdapterMethod.forPeftType(config.peftType()).attach(model, name, config, 0L);
            try {
                AdapterFiles.loadWeights(dir, a, fingerprint);
            } catch (PeftException | RuntimeException e) {
                a.close();
                throw e;
            }
            a.setTraining(training);
            adapters.put(name, a);
            activateOnly(List.of(name));
            return a;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Overwrites the weights of the attached adapter {@code name} with those saved in {@code dir} (a resume).
     *
     * @throws AdapterMismatchException when the saved tensors do not fit the attached adapter
     */
    public void loadAdapterWeights(String name, Path dir) throws PeftException {
        lock.writeLock().lock();
        try {
            AdapterFiles.loadWeights(dir, get(name), fingerprint);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Saves every adapter in PEFT's layout: {@value #DEFAULT} (or the only adapter) directly in {@code dir}, any
     * other adapter in {@code dir/<name>}. Atomic per folder: a crash leaves the previous files.
     */
    public void save(Path dir) throws PeftException {
        lock.readLock().lock();
        try {
            for (Adapter a : adapters.values()) {
                boolean top = a.name().equals(DEFAULT) || adapters.size() == 1;
                AdapterFiles.save(top ? dir : dir.resolve(a.name()), a, fingerprint, model);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Saves one adapter into {@code dir} (PEFT layout, atomic). */
    public void saveAdapter(String name, Path dir) throws PeftException {
        lock.readLock().lock();
        try {
            AdapterFiles.save(dir, get(name), fingerprint, model);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Makes exactly {@code names} active (runtime hot-swap); merged adapters that become inactive are unmerged. */
    public void setActiveAdapters(String... names) {
        lock.writeLock().lock();
        try {
            for (String n : names) {
                get(n);
            }
            activateOnly(List.of(names));
        } finally {
            lock.writeLock().unlock();
        }
    }

    public List<String> activeAdapters() {
        lock.readLock().lock();
        try {
            return adapters.values().stream().filter(Adapter::isActive).map(Adapter::name).toList();
        } finally {
            lock.readLock().unlock();
        }
    }

    public Set<String> adapterNames() {
        lock.readLock().lock();
        try {
            return new LinkedHashSet<>(adapters.keySet());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The adapter called {@code name}; {@link IllegalArgumentException} listing the known names otherwise. */
    public Adapter adapter(String name) {
        lock.readLock().lock();
        try {
            return get(name);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Turns every adapter off until the returned handle is closed, so forwards give the base model's outputs
     * (merged weights are bypassed, not modified). Closing restores the previous state exactly.
     */
    public AdaptersDisabled disableAdapters() {
        lock.writeLock().lock();
        try {
            adapters.values().forEach(a -> a.setEnabled(false));
        } finally {
            lock.writeLock().unlock();
        }
        return new AdaptersDisabled(this);
    }

    void enableAll() {
        lock.writeLock().lock();
        try {
            adapters.values().forEach(a -> a.setEnabled(true));
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Detaches and frees adapter {@code name}. */
    public void deleteAdapter(String name) {
        lock.writeLock().lock();
        try {
            get(name).close();
            adapters.remove(name);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Merges the active adapters into effective weights. */
    public void merge() {
        lock.writeLock().lock();
        try {
            for (Adapter a : adapters.values()) {
                if (a.isActive() && !a.isMerged()) {
                    if (!a.isMergeable()) {
                        throw new IllegalStateException("adapter '" + a.name() + "' (" + a.config().peftType()
                                + ") cannot be merged into weights");
                    }
                    a.merge();
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Undoes {@link #merge()} exactly. */
    public void unmerge() {
        lock.writeLock().lock();
        try {
            adapters.values().stream().filter(Adapter::isMerged).forEach(Adapter::unmerge);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Merges the active adapters, puts plain {@link DenseLinear} projections with the merged weights into the
     * model, writes active trainable copies of other weights (embedding, norms) into the stored weights, removes
     * every adapter and returns the bare model (this wrapper is then empty).
     */
    public CausalLM mergeAndUnload() {
        lock.writeLock().lock();
        try {
            merge();
            MergeAndUnload.run(model, adapters.values());
            adapters.clear();
            return model;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Logits {@code [B, T, vocab]} with the active adapters (see {@link CausalLM#forward}); takes the read lock.
     */
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        lock.readLock().lock();
        try {
            for (Adapter a : adapters.values()) {
                if (a.isActive() && a.wrapsForward()) {
                    return a.forward(model, inputIds, attentionMask, cache);
                }
            }
            return model.forward(inputIds, attentionMask, cache);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Training forward + backward with the active adapters (see {@link CausalLM#backward}); takes the read lock.
     * Activation checkpointing needs the base model's layer-by-layer path, so it is refused while an adapter that
     * wraps the whole forward (prompt-style) is active.
     */
    public float backward(NDArray inputIds, NDArray attentionMask, Function<NDArray, NDArray> loss,
                          boolean checkpointActivations, long rngSeed) {
        lock.readLock().lock();
        try {
            for (Adapter a : adapters.values()) {
                if (a.isActive() && a.wrapsForward()) {
                    if (checkpointActivations) {
                        throw new IllegalStateException("activation checkpointing does not support adapter '"
                                + a.name() + "' (" + a.config().peftType() + "), which wraps the model's forward");
                    }
                    Engine.getInstance().setRandomSeed(Long.hashCode(rngSeed));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray value = loss.apply(a.forward(model, inputIds, attentionMask, null));
                        gc.backward(value);
                        return value.getFloat();
                    }
                }
            }
            return model.backward(inputIds, attentionMask, loss, checkpointActivations, rngSeed);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Training mode turns adapter dropout on. */
    public void setTraining(boolean training) {
        lock.writeLock().lock();
        try {
            this.training = training;
            adapters.values().forEach(a -> a.setTraining(training));
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The arrays of the active adapters that gradients flow into (live). */
    public List<NDArray> trainableArrays() {
        lock.readLock().lock();
        try {
            List<NDArray> out = new ArrayList<>();
            adapters.values().stream().filter(Adapter::isActive).forEach(a -> out.addAll(a.trainableParameters()));
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Number of trainable scalars (active adapters). */
    public long trainableParameterCount() {
        lock.readLock().lock();
        try {
            return adapters.values().stream().filter(Adapter::isActive).mapToLong(Adapter::parameterCount).sum();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Base parameters plus every adapter's. */
    public long allParameterCount() {
        lock.readLock().lock();
        try {
            return model.config().parameterCount()
                    + adapters.values().stream().mapToLong(Adapter::parameterCount).sum();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** PEFT's {@code print_trainable_parameters} line: "trainable params: X || all params: Y || trainable%: Z". */
    public String trainableParameters() {
        long t = trainableParameterCount();
        long all = allParameterCount();
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                t, all, 100.0 * t / all);
    }

    private void activateOnly(List<String> names) {
        for (Adapter a : adapters.values()) {
            boolean on = names.contains(a.name());
            if (!on && a.isMerged()) {
                a.unmerge();
            }
            a.setActive(on);
        }
    }

    private Adapter get(String name) {
        Adapter a = adapters.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter named '" + name + "' (have " + adapters.keySet() + ")");
        }
        return a;
    }

    private void requireNewName(String name) {
        if (name == null || name.isBlank() || name.contains("/") || name.contains(".")) {
            throw new IllegalArgumentException("adapter name must be a non-empty word without '/' or '.': " + name);
        }
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named '" + name + "' already exists");
        }
    }

    /** Detaches every adapter (the base model stays open). */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            adapters.values().forEach(Adapter::close);
            adapters.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
