package io.peft4j.core.adapter.internal;

import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import ai.djl.ndarray.NDArray;
import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.core.io.AtomicFolder;
import io.peft4j.core.io.FiniteValues;
import io.peft4j.core.model.CausalLM;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PEFT's adapter folder: {@code adapter_config.json} + {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module path>.<weight>} (no adapter name; prompt-learning methods save top-level keys such as
 * {@code prompt_embeddings}, see {@link Adapter#savedKeyPrefix()}). peft4j adds {@code __metadata__} entries
 * {@value #FINGERPRINT_KEY} and {@value #TYPE_KEY}. The folder is replaced as a whole by {@link AtomicFolder} (other
 * entries carried over), so a crash at any point of a save leaves the previous adapter or the new one, never a mix;
 * readers fall back to the previous adapter if a save was cut between its two renames. NaN/Inf tensors are refused
 * on save and on load, naming the tensor.
 */
public final class AdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    public static final String PREFIX = "base_model.model.";
    public static final String FINGERPRINT_KEY = "peft4j.base_fingerprint";
    public static final String TYPE_KEY = "peft4j.peft_type";
    private static final Logger LOG = LoggerFactory.getLogger(AdapterFiles.class);
    private static final int MAX_LISTED = 5;

    private AdapterFiles() {
    }

    /** {@code extraMetadata}: more {@code __metadata__} entries, e.g. {@link io.peft4j.core.adapter.Provenance#toMetadata()}. */
    public static void save(Path dir, Adapter adapter, String fingerprint, CausalLM model, Map<String, String> extraMetadata)
            throws PeftException {
        Map<String, NDArray> live = adapter.stateDict();
        String prefix = adapter.savedKeyPrefix();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        live.forEach((k, v) -> entries.add(new SafetensorsWriter.Entry(prefix + k, "F32", v.getShape().getShape())));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(FINGERPRINT_KEY, fingerprint);
        meta.put(TYPE_KEY, adapter.config().peftType());
        meta.putAll(extraMetadata);
        String json = adapter.savedConfig().toJson();
        try {
            // the whole folder is swapped at once; anything else in it (checkpoints, metrics, README) is carried over
            AtomicFolder.replace(dir, name -> !name.equals(CONFIG) && !name.equals(WEIGHTS), tmp -> {
                Files.writeString(tmp.resolve(CONFIG), json, StandardCharsets.UTF_8);
                // streaming: each tensor is copied out of its NDArray (and checked) only when the writer reaches it
                SafetensorsWriter.write(tmp.resolve(WEIGHTS), entries, meta, name -> {
                    NDArray a = live.get(name.substring(prefix.length()));
                    float[] v = a.toFloatArray();
                    String bad = FiniteValues.describe(name, v);
                    if (bad != null) {
                        throw new NonFinite(bad);
                    }
                    return TensorData.f32(v, a.getShape().getShape());
                });
            });
            LOG.debug("saved adapter '{}' ({} tensors) to {}", adapter.name(), entries.size(), dir);
        } catch (NonFinite e) {
            throw new PeftException(dir + ": refusing to save adapter '" + adapter.name() + "': " + e.getMessage()
                    + " (previous files kept)", e);
        } catch (IOException | RuntimeException e) {
            throw new PeftException(dir + ": saving adapter '" + adapter.name() + "' failed (previous files kept): "
                    + e, e);
        }
    }

    /** A tensor about to be saved holds NaN or Inf (aborts the streaming write). */
    private static final class NonFinite extends IOException {
        private static final long serialVersionUID = 1L;

        NonFinite(String message) {
            super(message);
        }
    }

    /**
     * Reads {@code dir}'s {@code adapter_config.json}; if a save of {@code dir} was interrupted between its renames,
     * the complete previous adapter beside it is read instead (nothing is written).
     */
    public static AdapterConfig readConfig(Path dir) throws PeftException {
        return AdapterConfig.read(AtomicFolder.resolveForRead(dir).resolve(CONFIG));
    }

    /** Reads {@code dir}'s weights into {@code adapter}'s live arrays after checking keys, shapes and fingerprint. */
    public static void loadWeights(Path dir, Adapter adapter, String fingerprint) throws PeftException {
        Path file = AtomicFolder.resolveForRead(dir).resolve(WEIGHTS);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointFormatException(file, "adapter weights file is missing");
        }
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            loadWeights(file, reader, adapter, fingerprint);
        }
    }

    private static void loadWeights(Path file, SafetensorsReader reader, Adapter adapter, String fingerprint)
            throws PeftException {
        String saved = reader.metadata().get(FINGERPRINT_KEY);
        if (saved != null && !saved.equals(fingerprint)) {
            throw new AdapterMismatchException(file + ": adapter was saved for a base model with fingerprint "
                    + saved + ", this base model's is " + fingerprint + " (different architecture or shapes)");
        }
        Map<String, NDArray> live = adapter.stateDict();
        Map<String, String> byKey = new LinkedHashMap<>();     // key without prefix -> file name
        reader.names().forEach(k -> byKey.put(k.startsWith(PREFIX) ? k.substring(PREFIX.length()) : k, k));
        checkFits(file, live, byKey, reader, adapter.savedKeyPrefix());
        // F32: a view of the mapped file, scanned in place and then copied once into memory the array owns (a
        // FloatBuffer, not the mapped ByteBuffer itself, which DJL would alias: the array must outlive the mapping and
        // be writable); other dtypes are widened in Java. Every tensor is checked before any is set.
        Map<String, FloatBuffer> values = new LinkedHashMap<>();
        for (String key : live.keySet()) {
            String name = byKey.get(key);
            FloatBuffer v = "F32".equals(reader.dtype(name)) ? reader.raw(name).asFloatBuffer()
                    : FloatBuffer.wrap(reader.readFloats(name));
            String bad = FiniteValues.describe(name, v);
            if (bad != null) {
                throw new CheckpointFormatException(file, "adapter " + bad + "; refusing a NaN/Inf adapter");
            }
            values.put(key, v);
        }
        live.forEach((key, array) -> array.set(values.get(key)));
        adapter.onStateLoaded();
    }

    private static void checkFits(Path file, Map<String, NDArray> live, Map<String, String> byKey,
                                  SafetensorsReader reader, String prefix) throws AdapterMismatchException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            String name = byKey.get(e.getKey());
            long[] want = e.getValue().getShape().getShape();
            if (name == null) {
                problems.add("missing " + prefix + e.getKey() + " " + Arrays.toString(want));
            } else if (!Arrays.equals(reader.shape(name), want)) {
                problems.add(prefix + e.getKey() + " has shape " + Arrays.toString(reader.shape(name)) + ", model needs "
                        + Arrays.toString(want));
            }
        }
        for (String k : byKey.keySet()) {
            if (!live.containsKey(k)) {
                problems.add("unexpected " + prefix + k);
            }
        }
        if (!problems.isEmpty()) {
            throw new AdapterMismatchException(file + ": adapter does not fit this base model (" + problems.size()
                    + " problems): " + String.join("; ", problems.subList(0, Math.min(MAX_LISTED, problems.size())))
                    + (problems.size() > MAX_LISTED ? "; ..." : ""));
        }
    }
}
