package io.peft4j.serve.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models the server offers: the base under its served name and every adapter of the registry, with how many
 * choices use each. A request {@link #acquire}s its adapter for each choice and the engine {@link #release}s it when
 * the choice leaves; {@link #unload} refuses new requests for the adapter at once, then waits until none uses it
 * before freeing it. Thread-safe (one monitor; registry calls happen outside it).
 */
public final class AdapterCatalog {
    private static final Logger LOG = LoggerFactory.getLogger(AdapterCatalog.class);

    /** One served adapter. */
    public record Entry(String name, String path, long created) {
    }

    private final AdapterRegistry registry;
    private final String baseName;
    private final Path adapterRoot;                       // null: any folder
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, Integer> inUse = new LinkedHashMap<>();
    private final List<String> unloading = new ArrayList<>();
    private final List<String> loading = new ArrayList<>();

    public AdapterCatalog(AdapterRegistry registry, String baseName, Path adapterRoot) {
        this.registry = registry;
        this.baseName = baseName;
        this.adapterRoot = adapterRoot;
        long now = Instant.now().getEpochSecond();
        for (String name : registry.names()) {   // adapters loaded before the server started
            Adapter a = registry.get(name);
            if (!a.supportsMixedBatch()) {
                throw new IllegalArgumentException("adapter '" + name + "' (" + a.config().peftType()
                        + ") cannot serve rows of a mixed batch, which the server needs");
            }
            entries.put(name, new Entry(name, name, now));
        }
        registry.activate();   // routing picks adapters per row; nothing stays active
    }

    public String baseName() {
        return baseName;
    }

    /** The adapters served now, in load order. */
    public synchronized List<Entry> adapters() {
        return List.copyOf(entries.values());
    }

    /**
     * The registry name (or {@value AdapterRegistry#BASE}) of {@code model}, counted as in use once more; 404 for a
     * name not served (or being unloaded).
     */
    public synchronized String acquire(String model) {
        String name = baseName.equals(model) ? AdapterRegistry.BASE : model;
        if (!AdapterRegistry.BASE.equals(name) && (!entries.containsKey(name) || unloading.contains(name))) {
            throw ApiError.unknownModel(model);
        }
        inUse.merge(name, 1, Integer::sum);
        return name;
    }

    /** One use of {@code name} (from {@link #acquire}) ended. */
    public synchronized void release(String name) {
        inUse.computeIfPresent(name, (k, v) -> v > 1 ? v - 1 : null);
        notifyAll();
    }

    /**
     * Loads the PEFT adapter folder {@code path} as {@code name}. With an adapter root the folder must resolve
     * inside it (symbolic links followed). 400 for a bad name, path or folder; the registry's write lock is held only
     * while the adapter attaches and its weights are read, between two engine steps.
     */
    public void load(String name, String path) {
        Path dir = resolve(path);
        synchronized (this) {
            if (baseName.equals(name) || AdapterRegistry.BASE.equals(name)) {
                throw ApiError.badParameter("lora_name", "'" + name + "' is the base model's name");
            }
            if (entries.containsKey(name) || loading.contains(name)) {
                throw ApiError.badParameter("lora_name", "The lora adapter '" + name + "' has already been loaded.");
            }
            loading.add(name);
        }
        try {
            Adapter a;
            try {
                a = registry.load(dir, name);
            } catch (PeftException | RuntimeException e) {   // a corrupt or foreign folder: the client's fault
                throw ApiError.badParameter("lora_path", "cannot load adapter '" + name + "' from " + path + ": "
                        + e.getMessage());
            }
            registry.activate();   // routing picks adapters per row; nothing stays active
            if (!a.supportsMixedBatch()) {
                registry.unload(name);
                throw ApiError.badParameter("lora_path", "adapter '" + name + "' (" + a.config().peftType()
                        + ") cannot serve rows of a mixed batch, which this server needs");
            }
            synchronized (this) {
                entries.put(name, new Entry(name, dir.toString(), Instant.now().getEpochSecond()));
            }
            LOG.info("serving adapter '{}' from {}", name, dir);
        } finally {
            synchronized (this) {
                loading.remove(name);
            }
        }
    }

    /** Stops serving {@code name}: new requests get 404 at once; frees it once no choice uses it. 404 if unknown. */
    public void unload(String name) throws InterruptedException {
        synchronized (this) {
            if (!entries.containsKey(name) || unloading.contains(name)) {
                throw new ApiError(404, "invalid_request_error", "lora_name", "model_not_found",
                        "The lora adapter '" + name + "' cannot be found.");
            }
            unloading.add(name);
            while (inUse.containsKey(name)) {
                wait();
            }
        }
        try {
            registry.unload(name);
        } finally {
            synchronized (this) {
                entries.remove(name);
                unloading.remove(name);
            }
        }
    }

    private Path resolve(String path) {
        if (path == null || path.isBlank()) {
            throw ApiError.badParameter("lora_path", "lora_path is required");
        }
        Path dir;
        try {
            Path given = Path.of(path);
            dir = (adapterRoot != null && !given.isAbsolute() ? adapterRoot.resolve(given) : given).toRealPath();
            if (adapterRoot != null && !dir.startsWith(adapterRoot.toRealPath())) {
                throw ApiError.badParameter("lora_path", "lora_path must be inside the adapter root");
            }
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw ApiError.badParameter("lora_path", "no adapter folder at " + path);
        }
        if (!Files.isDirectory(dir)) {
            throw ApiError.badParameter("lora_path", "lora_path is not a folder: " + path);
        }
        return dir;
    }
}
