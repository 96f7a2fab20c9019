package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.PeftException;
import io.peft4j.core.internal.F32Safetensors;
import io.peft4j.core.model.CausalLM;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * PEFT's adapter folder: {@code adapter_config.json} + {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module path>.<weight>} (no adapter name). peft4j adds {@code __metadata__} entries
 * {@value #FINGERPRINT_KEY} and {@value #TYPE_KEY}. Writes go to temp files that are fsynced and renamed over the
 * old ones, so a crash mid-save leaves the previous adapter readable.
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

    static void save(Path dir, Adapter adapter, String fingerprint, CausalLM model) throws PeftException {
        Map<String, F32Safetensors.Source> tensors = new LinkedHashMap<>();
        adapter.stateDict().forEach((k, v) ->
                tensors.put(PREFIX + k, new F32Safetensors.Source(v.getShape().getShape(), v::toFloatArray)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(FINGERPRINT_KEY, fingerprint);
        meta.put(TYPE_KEY, adapter.config().peftType());
        String tag = ".tmp-" + UUID.randomUUID();
        Path tmpWeights = dir.resolve(WEIGHTS + tag);
        Path tmpConfig = dir.resolve(CONFIG + tag);
        try {
            Files.createDirectories(dir);
            writeSynced(tmpWeights, out -> F32Safetensors.write(out, tensors, meta));
            writeSynced(tmpConfig, out -> out.write(adapter.config().toJson().getBytes(
                    java.nio.charset.StandardCharsets.UTF_8)));
            move(tmpWeights, dir.resolve(WEIGHTS));
            move(tmpConfig, dir.resolve(CONFIG));
            LOG.debug("saved adapter '{}' ({} tensors) to {}", adapter.name(), tensors.size(), dir);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmpWeights);
            deleteQuietly(tmpConfig);
            throw new PeftException(dir + ": saving adapter '" + adapter.name() + "' failed (previous files kept): "
                    + e, e);
        }
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void writeSynced(Path file, Body body) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            body.write(out);
            out.flush();
            ch.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
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
        F32Safetensors.Contents contents = F32Safetensors.read(file);
        String saved = contents.metadata().get(FINGERPRINT_KEY);
        if (saved != null && !saved.equals(fingerprint)) {
            throw new AdapterMismatchException(file + ": adapter was saved for a base model with fingerprint "
                    + saved + ", this base model's is " + fingerprint + " (different architecture or shapes)");
        }
        Map<String, NDArray> live = adapter.stateDict();
        Map<String, F32Safetensors.Tensor> byKey = new LinkedHashMap<>();
        contents.tensors().forEach((k, v) -> byKey.put(k.startsWith(PREFIX) ? k.substring(PREFIX.length()) : k, v));
        checkFits(file, live, byKey);
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            e.getValue().set(byKey.get(e.getKey()).values());
        }
        adapter.onStateLoaded();
    }

    private static void checkFits(Path file, Map<String, NDArray> live, Map<String, F32Safetensors.Tensor> byKey)
            throws AdapterMismatchException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            F32Safetensors.Tensor t = byKey.get(e.getKey());
            long[] want = e.getValue().getShape().getShape();
            if (t == null) {
                problems.add("missing " + PREFIX + e.getKey() + " " + Arrays.toString(want));
            } else if (!Arrays.equals(t.shape(), want)) {
                problems.add(PREFIX + e.getKey() + " has shape " + Arrays.toString(t.shape()) + ", model needs "
                        + Arrays.toString(want));
            }
        }
        for (String k : byKey.keySet()) {
            if (!live.containsKey(k)) {
                problems.add("unexpected " + PREFIX + k);
            }
        }
        if (!problems.isEmpty()) {
            throw new AdapterMismatchException(file + ": adapter does not fit this base model (" + problems.size()
                    + " problems): " + String.join("; ", problems.subList(0, Math.min(MAX_LISTED, problems.size())))
                    + (problems.size() > MAX_LISTED ? "; ..." : ""));
        }
    }
}
