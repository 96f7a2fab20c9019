package io.peft4j.core.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.SafetensorsReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an adapter folder holds, read without a base model: its config (and the method's headline settings, e.g.
 * LoRA's {@code r}, {@code lora_alpha}, {@code target_modules}), tensor count, parameter count, stored dtypes,
 * file sizes, and what peft4j writes into the safetensors {@code __metadata__}: the base-model fingerprint and the
 * {@link Provenance} (both absent in folders written by Python PEFT). Every tensor is read once, which proves the
 * file is whole.
 *
 * <pre>{@code
 * AdapterSummary s = AdapterSummary.read(Path.of("my-adapter"));
 * System.out.println(s.config().peftType() + " " + s.settings() + ", " + s.parameters() + " parameters");
 * Provenance p = s.provenance();   // null unless peft4j trained it
 * }</pre>
 *
 * @param dir             the adapter folder
 * @param config          its {@code adapter_config.json}
 * @param settings        the method's headline fields with their values as written in the config JSON
 * @param tensors         tensors in {@code adapter_model.safetensors}
 * @param parameters      elements over all tensors (the adapter's trainable parameters)
 * @param dtypes          stored dtype to tensor count
 * @param weightsBytes    size of {@code adapter_model.safetensors}
 * @param configBytes     size of {@code adapter_config.json}
 * @param baseFingerprint peft4j's base-model fingerprint, or {@code null} when the file has none
 * @param metadata        the whole safetensors {@code __metadata__}
 * @param provenance      what made the adapter (peft4j version, method, seed, steps, data hash, template), or
 *                        {@code null} when the file does not say
 *
 * @since 0.1.0
 */
public record AdapterSummary(Path dir, AdapterConfig config, Map<String, Object> settings, int tensors,
                             long parameters, Map<String, Integer> dtypes, long weightsBytes, long configBytes,
                             String baseFingerprint, Map<String, String> metadata, Provenance provenance) {

    /**
     * Reads {@code dir}; a folder without {@code adapter_config.json} or {@code adapter_model.safetensors}, or with a
     * bad one (malformed provenance entries included), fails with a message naming the file.
     */
    public static AdapterSummary read(Path dir) throws PeftException {
        Path configFile = dir.resolve(AdapterFiles.CONFIG);
        Path weights = dir.resolve(AdapterFiles.WEIGHTS);
        if (!Files.isDirectory(dir)) {
            throw new PeftException(dir + ": not an adapter folder (no such directory)");
        }
        if (!Files.isRegularFile(configFile)) {
            throw new PeftException(dir + ": not an adapter folder (no " + AdapterFiles.CONFIG + ")");
        }
        if (!Files.isRegularFile(weights)) {
            throw new CheckpointFormatException(weights, "adapter weights file is missing");
        }
        AdapterConfig config = AdapterConfig.read(configFile);
        Map<String, Integer> dtypes = new TreeMap<>();
        long params = 0;
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            for (String name : reader.names()) {
                long n = reader.numel(name);
                if (reader.readFloats(name).length != n) {
                    throw new CheckpointFormatException(weights, name, "could not read " + n + " values");
                }
                params += n;
                dtypes.merge(reader.dtype(name), 1, Integer::sum);
            }
            Map<String, String> meta = new LinkedHashMap<>(reader.metadata());
            return new AdapterSummary(dir, config, settings(config), reader.names().size(), params,
                    Collections.unmodifiableMap(dtypes), size(weights), size(configFile),
                    meta.get(AdapterFiles.FINGERPRINT_KEY), Collections.unmodifiableMap(meta),
                    provenance(weights, meta));
        }
    }

    private static Provenance provenance(Path weights, Map<String, String> meta) throws CheckpointFormatException {
        try {
            return Provenance.fromMetadata(meta);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(weights, "__metadata__: " + e.getMessage(), e);
        }
    }

    /** The fields {@link AdapterConfig#summaryFields()} names, as written in the config JSON (lists stay lists). */
    private static Map<String, Object> settings(AdapterConfig config) throws PeftException {
        JsonNode tree;
        try {
            tree = Json.MAPPER.readTree(config.toJson());
        } catch (IOException e) {
            throw new PeftException("adapter config could not be re-read as JSON: " + e.getMessage(), e);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (String field : config.summaryFields()) {
            JsonNode v = tree.get(field);
            out.put(field, v == null || v.isNull() ? null : Json.MAPPER.convertValue(v, Object.class));
        }
        return Collections.unmodifiableMap(out);
    }

    private static long size(Path file) throws PeftException {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new PeftException(file + ": cannot read size: " + e.getMessage(), e);
        }
    }
}
