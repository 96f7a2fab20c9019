package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.core.model.CausalLM;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * PEFT's adapter folder: {@code adapter_config.json} + {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module path>.<weight>} (no adapter name; prompt-learning methods save top-level keys such as
 * {@code prompt_embeddings}, see {@link Adapter#savedKeyPrefix()}). peft4j adds {@code __metadata__} entries
 * {@value #FINGERPRINT_KEY} and {@value #TYPE_KEY}. Both files are written under temporary names and renamed over
 * the old ones (weights first, fsynced by {@link SafetensorsWriter}), so a crash mid-save leaves the previous
 * adapter readable.
 */
final class AdapterFiles {
    static final String CONFIG = "adapter_config.json";
    static final String WEIGHTS = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";
    static final String FINGERPRINT_KEY = "peft4j.base_fingerprint";
    static final String TYPE_KEY = "peft4j.peft_type";
    private static final Logger LOG = LoggerFactory.getLogger(AdapterFiles.class);
    private static final int MAX_LISTED = 5;

    private AdapterFiles() {
    }

    /** {@code extraMetadata}: more {@code __metadata__} entries, e.g. {@link Provenance#toMetadata()}. */
    static void save(Path dir, Adapter adapter, String fingerprint, CausalLM model, Map<String, String> extraMetadata)
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
        Path tmpConfig = dir.resolve("." + CONFIG + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(dir);
            Files.writeString(tmpConfig, adapter.savedConfig().toJson(), StandardCharsets.UTF_8);
            // streaming and atomic: each tensor is copied out of its NDArray only when the writer reaches it
            SafetensorsWriter.write(dir.resolve(WEIGHTS), entries, meta, name -> {
                NDArray a = live.get(name.substring(prefix.length()));
                return TensorData.f32(a.toFloatArray(), a.getShape().getShape());
            });
            Files.move(tmpConfig, dir.resolve(CONFIG), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            LOG.debug("saved adapter '{}' ({} tensors) to {}", adapter.name(), entries.size(), dir);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmpConfig);
            throw new PeftException(dir + ": saving adapter '" + adapter.name() + "' failed (previous files kept): "
                    + e, e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("could not delete temp file {}: {}", p, e.getMessage());
        }
    }

    /** Reads {@code dir}'s weights into {@code adapter}'s live arrays after checking keys, shapes and fingerprint. */
    static void loadWeights(Path dir, Adapter adapter, String fingerprint) throws PeftException {
        Path file = dir.resolve(WEIGHTS);
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
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            String name = byKey.get(e.getKey());
            if ("F32".equals(reader.dtype(name))) {
                // one bulk copy from the mapped file into memory the array owns (a FloatBuffer, not the mapped
                // ByteBuffer itself, which DJL would alias: the array must outlive the mapping and be writable)
                e.getValue().set(reader.raw(name).asFloatBuffer());
            } else {
                e.getValue().set(reader.readFloats(name));   // F16 / BF16 / F64 widened in Java
            }
        }
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
