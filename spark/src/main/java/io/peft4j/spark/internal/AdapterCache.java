package io.peft4j.spark.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.adapter.PeftModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The adapters loaded into one base model's {@link AdapterRegistry} for inference, by folder: each folder is loaded
 * once per executor and kept until more than {@code max} are loaded or their weights take more than a byte budget,
 * when the least recently used ones not needed by the current batch are unloaded. An adapter's bytes are its
 * parameters in fp32 (the registry keeps adapter weights in fp32, whatever the base's format). Callers hold the
 * model's lock ({@link BaseModels.Held#lock()}).
 */
final class AdapterCache {
    private static final Logger LOG = LoggerFactory.getLogger(AdapterCache.class);
    private static final Map<PeftModel, AdapterCache> CACHES = new IdentityHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private final PeftModel peft;
    private final Map<Path, String> names = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, Long> bytes = new HashMap<>();
    private int next;

    private AdapterCache(PeftModel peft) {
        this.peft = peft;
    }

    /** The cache of {@code peft} (one per base model in this JVM). */
    static synchronized AdapterCache of(PeftModel peft) {
        return CACHES.computeIfAbsent(peft, AdapterCache::new);
    }

    /** How many adapter loads this JVM has done (a folder counts again only after it was evicted). */
    static int loads() {
        return LOADS.get();
    }

    /** The registry name of the adapter in {@code dir}, loading it if needed. */
    String nameOf(Path dir) throws PeftException {
        String name = names.get(dir);
        if (name == null) {
            name = "spark-" + next++;
            peft.loadAdapter(dir, name);
            LOADS.incrementAndGet();
            names.put(dir, name);
            bytes.put(name, peft.adapter(name).parameterCount() * Float.BYTES);
            LOG.info("loaded adapter {} as {}", dir, name);
        }
        return name;
    }

    /** Bytes of adapter weights loaded now. */
    long loadedBytes() {
        return bytes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** How many adapters are loaded now. */
    int loadedCount() {
        return names.size();
    }

    /**
     * Unloads least recently used adapters while more than {@code max} are loaded or, with {@code budgetBytes > 0},
     * their weights take more than {@code budgetBytes}; never one of {@code inUse} (a batch's own adapters may exceed
     * the budget until the next batch).
     */
    void evict(int max, long budgetBytes, Collection<String> inUse) {
        Iterator<Map.Entry<Path, String>> it = names.entrySet().iterator();
        while ((names.size() > max || budgetBytes > 0 && loadedBytes() > budgetBytes) && it.hasNext()) {
            Map.Entry<Path, String> e = it.next();
            if (!inUse.contains(e.getValue())) {
                peft.deleteAdapter(e.getValue());
                bytes.remove(e.getValue());
                it.remove();
                LOG.info("unloaded adapter {} ({} loaded, {} bytes; budget {} adapters, {} bytes)", e.getKey(),
                        names.size(), loadedBytes(), max, budgetBytes);
            }
        }
    }
}
