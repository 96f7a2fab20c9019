package io.peft4j.core.adapter;

import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.model.CausalLM;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The named adapters loaded over one base model and which of them are active: add, load, activate (hot-swap) and
 * unload them at runtime while other threads run forwards. Thread-safe: every change takes the write lock of a
 * fair read-write lock, every forward (and every {@link MixedAdapterModel} for its whole life) holds the read
 * lock, so a forward never sees a half-attached adapter and an adapter in use is never freed under it; a waiting
 * change gets in before later readers. A thread that holds the read lock must not change adapters (that would
 * deadlock; it is refused with {@link IllegalStateException}). Closing it closes the adapters, not the base model.
 *
 * <pre>{@code
 * AdapterRegistry registry = PeftModel.wrap(model).registry();
 * registry.load(Path.of("adapters/sql"), "sql");          // another thread may be generating meanwhile
 * registry.activate("sql");
 * }</pre>
 *
 * @since 0.1.0
 */
public final class AdapterRegistry implements AutoCloseable {
    /** PEFT's name for "no adapter" in per-row adapter lists; reserved, never an adapter's name. */
    public static final String BASE = "__base__";
    private static final Logger LOG = LoggerFactory.getLogger(AdapterRegistry.class);

    private final CausalLM model;
    private final String fingerprint;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private boolean training;

    /** An empty registry over {@code model} (not owned). */
    public AdapterRegistry(CausalLM model) {
        this.model = model;
        this.fingerprint = BaseFingerprint.of(model);
    }

    /** The base model the adapters are attached to. */
    public CausalLM model() {
        return model;
    }

    /** Architecture-and-shapes fingerprint of the base model (stored in saved adapters, checked on load). */
    public String fingerprint() {
        return fingerprint;
    }

    /** Attaches a fresh adapter (initialised from {@code seed}) as {@code name} and makes it the only active one. */
    public Adapter add(String name, AdapterConfig config, long seed) {
        return write(map -> {
            requireNewName(map, name);
            Adapter a = AdapterMethod.forPeftType(config.peftType()).attach(model, name, config, seed);
            register(map, a);
            LOG.info("added {} adapter '{}' ({} parameters)", config.peftType(), name, a.parameterCount());
            return a;
        });
    }

    /**
     * Loads a PEFT adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors}) as
     * {@code name} and makes it the only active one. On failure nothing is left attached.
     *
     * @throws AdapterMismatchException when its tensors or base fingerprint do not fit this model
     */
    public Adapter load(Path dir, String name) throws PeftException {
        AdapterConfig config = AdapterFiles.readConfig(dir);
        checkSavedTensors(dir, config);
        return write(map -> {
            requireNewName(map, name);
            Adapter a;
            try {
                a = AdapterMethod.forPeftType(config.peftType()).attach(model, name, config, 0L);
            } catch (IllegalArgumentException | ArithmeticException e) { // a config that cannot apply to this model
                throw new AdapterMismatchException(dir.resolve(AdapterFiles.CONFIG) + ": " + e.getMessage());
            }
            try {
                AdapterFiles.loadWeights(dir, a, fingerprint);
            } catch (PeftException | RuntimeException e) {
                a.close();
                throw e;
            }
            register(map, a);
            LOG.info("loaded {} adapter '{}' from {}", config.peftType(), name, dir);
            return a;
        });
    }

    /**
     * The saved tensors against the config alone ({@link AdapterMethod#checkTensors}), before anything is allocated:
     * a config whose rank disagrees with its file is refused here rather than allocating that rank for every module.
     */
    private static void checkSavedTensors(Path dir, AdapterConfig config) throws PeftException {
        Path file = dir.resolve(AdapterFiles.WEIGHTS);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            r.names().forEach(n -> shapes.put(n, r.shape(n)));
        }
        List<String> problems;
        try {
            problems = AdapterMethod.forPeftType(config.peftType()).checkTensors(config, shapes);
        } catch (IllegalArgumentException e) {
            throw new AdapterMismatchException(dir.resolve(AdapterFiles.CONFIG) + ": " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new AdapterMismatchException(file + ": tensors do not match " + AdapterFiles.CONFIG + " ("
                    + problems.size() + " problems): " + String.join("; ", problems.subList(0,
                    Math.min(3, problems.size()))) + (problems.size() > 3 ? "; ..." : ""));
        }
    }

    /**
     * Overwrites the weights of the loaded adapter {@code name} with those saved in {@code dir} (a resume, or a
     * hot-swap of weights under the same name).
     *
     * @throws AdapterMismatchException when the saved tensors do not fit the loaded adapter
     */
    public void loadWeights(String name, Path dir) throws PeftException {
        this.<Void, PeftException>write(map -> {
            AdapterFiles.loadWeights(dir, get(map, name), fingerprint);
            return null;
        });
    }

    /** Makes exactly {@code names} active (runtime hot-swap); merged adapters that become inactive are unmerged. */
    public void activate(String... names) {
        List<String> wanted = List.of(names);
        write(map -> {
            wanted.forEach(n -> get(map, n));
            activateOnly(map, wanted);
            return null;
        });
    }

    /** Detaches and frees adapter {@code name}; waits until no forward uses the registry. */
    public void unload(String name) {
        write(map -> {
            get(map, name).close();
            map.remove(name);
            LOG.info("unloaded adapter '{}'", name);
            return null;
        });
    }

    /** Names of the active adapters, in load order. */
    public List<String> active() {
        return read(map -> map.values().stream().filter(Adapter::isActive).map(Adapter::name).toList());
    }

    /** Names of every loaded adapter, in load order. */
    public Set<String> names() {
        return read(map -> new LinkedHashSet<>(map.keySet()));
    }

    /** The adapter called {@code name}; {@link IllegalArgumentException} listing the loaded names otherwise. */
    public Adapter get(String name) {
        return read(map -> get(map, name));
    }

    /**
     * A view of the base model where row {@code i} of every batch uses adapter {@code rowAdapters.get(i)}
     * ({@value #BASE}: none), whatever is active; it holds the read lock until closed (see
     * {@link MixedAdapterModel}). Inference only: refused in training mode and while any adapter is merged.
     *
     * @throws IllegalArgumentException for an unknown name or an adapter type that cannot serve mixed batches
     */
    public MixedAdapterModel withAdapters(List<String> rowAdapters) {
        return open(AdapterRouting.perRow(rowAdapters));
    }

    /** {@link #withAdapters} with one adapter (or {@value #BASE}) for every row of any batch size. */
    public MixedAdapterModel withAdapter(String adapter) {
        return open(AdapterRouting.everyRow(adapter));
    }

    private MixedAdapterModel open(AdapterRouting routing) {
        lock.readLock().lock();
        try {
            checkRoutable(routing);
            return new MixedAdapterModel(this, routing);
        } catch (RuntimeException e) {
            lock.readLock().unlock();
            throw e;
        }
    }

    private void checkRoutable(AdapterRouting routing) {
        if (training) {
            throw new IllegalStateException("per-row adapters are for inference: call setTraining(false) first");
        }
        for (String name : routing.names()) {
            if (!BASE.equals(name) && !get(adapters, name).supportsMixedBatch()) {
                throw new IllegalArgumentException("adapter '" + name + "' (" + adapters.get(name).config().peftType()
                        + ") cannot serve some rows of a mixed batch");
            }
        }
        for (Adapter a : adapters.values()) {
            if (a.isActive() && !a.supportsMixedBatch()) {   // its layers would ignore the routing
                throw new IllegalStateException("adapter '" + a.name() + "' (" + a.config().peftType() + ") is active "
                        + "and cannot take part in mixed batches: deactivate it first");
            }
            if (a.isMerged()) {
                throw new IllegalStateException("adapter '" + a.name() + "' is merged into the weights: unmerge "
                        + "before using per-row adapters");
            }
        }
    }

    /** Releases the read lock taken by {@link #withAdapters} (a {@link MixedAdapterModel} closing). */
    void releaseRead() {
        lock.readLock().unlock();
    }

    /** Training mode turns adapter dropout on (also for adapters loaded later). */
    public void setTraining(boolean on) {
        write(map -> {
            training = on;
            map.values().forEach(a -> a.setTraining(on));
            return null;
        });
    }

    public boolean isTraining() {
        return read(map -> training);
    }

    /** A body run under one of the registry's locks with the live adapter map. */
    @FunctionalInterface
    interface Locked<T, E extends Exception> {
        T run(Map<String, Adapter> adapters) throws E;
    }

    /** Runs {@code body} under the read lock; the map is unmodifiable. */
    <T, E extends Exception> T read(Locked<T, E> body) throws E {
        return locked(lock.readLock(), Collections.unmodifiableMap(adapters), body);
    }

    /** Runs {@code body} under the write lock; refused while this thread holds the read lock (it would deadlock). */
    <T, E extends Exception> T write(Locked<T, E> body) throws E {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("this thread is running a forward or holds an open MixedAdapterModel: "
                    + "close it before changing adapters");
        }
        return locked(lock.writeLock(), adapters, body);
    }

    private static <T, E extends Exception> T locked(Lock l, Map<String, Adapter> map, Locked<T, E> body) throws E {
        l.lock();
        try {
            return body.run(map);
        } finally {
            l.unlock();
        }
    }

    private void register(Map<String, Adapter> map, Adapter a) {
        a.setTraining(training);
        map.put(a.name(), a);
        activateOnly(map, List.of(a.name()));
    }

    static void activateOnly(Map<String, Adapter> map, List<String> names) {
        for (Adapter a : map.values()) {
            boolean on = names.contains(a.name());
            if (!on && a.isMerged()) {
                a.unmerge();
            }
            a.setActive(on);
        }
    }

    static Adapter get(Map<String, Adapter> map, String name) {
        Adapter a = map.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter named '" + name + "' (have " + map.keySet() + ")");
        }
        return a;
    }

    private static void requireNewName(Map<String, Adapter> map, String name) {
        if (name == null || name.isBlank() || name.contains("/") || name.contains(".")
                || BASE.equals(name)) {
            throw new IllegalArgumentException("adapter name must be a non-empty word without '/' or '.', not '"
                    + BASE + "': " + name);
        }
        if (map.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named '" + name + "' already exists");
        }
    }

    /** Detaches every adapter (the base model stays open). */
    @Override
    public void close() {
        write(map -> {
            map.values().forEach(Adapter::close);
            map.clear();
            return null;
        });
    }
}
