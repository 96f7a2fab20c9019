package io.peft4j.spark.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.pretrained.Peft4jModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The base models of this JVM (an executor, or the driver in local mode), loaded lazily on first use and kept for
 * the life of the JVM: one per (model path, quantization), so an executor loads its base once however many tasks
 * and partitions it runs. A model is used by one Spark task at a time ({@link Held#lock()}): training is
 * single-threaded and adapter bookkeeping must not interleave, so with several task slots per executor the
 * partitions of one JVM take turns. Models are closed by a shutdown hook.
 */
public final class BaseModels {
    private static final Logger LOG = LoggerFactory.getLogger(BaseModels.class);
    private static final Map<String, Held> MODELS = new ConcurrentHashMap<>();
    private static final Object LOADING = new Object();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static volatile boolean hookAdded;

    private BaseModels() {
    }

    /**
     * A loaded base model and the lock its users take.
     *
     * @param model the model (with its PeftModel and AdapterRegistry)
     * @param lock  held by the one Spark task using the model
     */
    public record Held(Peft4jModel model, ReentrantLock lock) {
    }

    /**
     * The model at {@code path} quantized as {@code quantization} ({@code none}, {@code nf4}, ...) for one kind of
     * job ({@code purpose}: training and inference keep separate copies, so a training job's adapter save never
     * sees an inference job's adapters when both run in one JVM, e.g. in local mode), loaded once per JVM.
     */
    public static Held get(String path, String quantization, String purpose) throws PeftException,
            NoSuchFileException {
        String key = key(path, quantization) + "|" + purpose;
        Held held = MODELS.get(key);
        if (held != null) {
            return held;
        }
        synchronized (LOADING) {
            held = MODELS.get(key);
            if (held == null) {
                long start = System.nanoTime();
                Peft4jModel model = Peft4jModel.builder().setPath(Path.of(path)).optQuantization(quantization).build();
                held = new Held(model, new ReentrantLock(true));
                LOADS.incrementAndGet();
                MODELS.put(key, held);
                LOG.info("loaded base model {} ({}) in {} ms", path, quantization,
                        (System.nanoTime() - start) / 1_000_000);
                addShutdownHook();
            }
            return held;
        }
    }

    /** How many times this JVM has loaded a base model (once per distinct path, quantization and purpose). */
    public static int loads() {
        return LOADS.get();
    }

    private static String key(String path, String quantization) {
        return Path.of(path).toAbsolutePath().normalize() + "|" + quantization;
    }

    private static void addShutdownHook() {
        if (!hookAdded) {
            hookAdded = true;
            Runtime.getRuntime().addShutdownHook(new Thread(BaseModels::closeAll, "peft4j-spark-models"));
        }
    }

    private static void closeAll() {
        for (Held h : MODELS.values()) {
            try {
                h.model().close();
            } catch (RuntimeException e) {
                LOG.debug("closing a base model at shutdown", e);
            }
        }
        MODELS.clear();
    }
}
