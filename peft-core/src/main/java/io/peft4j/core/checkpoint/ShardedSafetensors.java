package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint split over several safetensors files and indexed by {@code model.safetensors.index.json}
 * ({@code {"metadata": {...}, "weight_map": {tensor: shard file}}}), the way transformers saves large models.
 * Opening validates that every shard exists inside the folder and holds each tensor the index assigns to it.
 * Reads delegate to the shard's {@link SafetensorsReader}; thread-safe for reads; close to release the shards.
 *
 * <pre>{@code
 * try (TensorSource weights = ShardedSafetensors.open(dir.resolve("model.safetensors.index.json"))) {
 *     float[] emb = weights.readFloats("model.embed_tokens.weight");
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class ShardedSafetensors implements TensorSource {
    /** The index file name transformers writes. */
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private final Path index;
    private final List<SafetensorsReader> shards;
    private final Map<String, SafetensorsReader> byTensor;
    private final Map<String, String> metadata;

    private ShardedSafetensors(Path index, List<SafetensorsReader> shards, Map<String, SafetensorsReader> byTensor,
                               Map<String, String> metadata) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.byTensor = Collections.unmodifiableMap(byTensor);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens the index and every shard it names (each shard's header is validated). */
    public static ShardedSafetensors open(Path indexFile) throws CheckpointFormatException {
        JsonNode root = readIndex(indexFile);
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointFormatException(indexFile, "missing or non-object field 'weight_map'");
        }
        Map<String, String> shardOf = new TreeMap<>();
        for (var it = weightMap.fields(); it.hasNext(); ) {
            var f = it.next();
            if (!f.getValue().isTextual()) {
                throw new CheckpointFormatException(indexFile, f.getKey(), "weight_map value must be a shard file "
                        + "name, got " + f.getValue().getNodeType());
            }
            shardOf.put(f.getKey(), f.getValue().textValue());
        }
        Map<String, SafetensorsReader> readers = new TreeMap<>();
        try {
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                if (!readers.containsKey(e.getValue())) {
                    readers.put(e.getValue(), SafetensorsReader.open(shardPath(indexFile, e.getKey(), e.getValue())));
                }
            }
            Map<String, SafetensorsReader> byTensor = assign(indexFile, shardOf, readers);
            return new ShardedSafetensors(indexFile, new ArrayList<>(readers.values()), byTensor,
                    metadataOf(indexFile, root.get("metadata")));
        } catch (CheckpointFormatException | RuntimeException e) {
            readers.values().forEach(SafetensorsReader::close);
            throw e;
        }
    }

    private static JsonNode readIndex(Path indexFile) throws CheckpointFormatException {
        try {
            if (Files.size(indexFile) > MAX_INDEX_BYTES) {
                throw new CheckpointFormatException(indexFile, "index is over " + MAX_INDEX_BYTES + " bytes");
            }
            JsonNode root = Json.MAPPER.readTree(Files.readAllBytes(indexFile));
            if (root == null || !root.isObject()) {
                throw new CheckpointFormatException(indexFile, "index must be a JSON object");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(indexFile, "index is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointFormatException(indexFile, "cannot read index: " + e, e);
        }
    }

    /** A shard must be a plain file name inside the index's folder (no absolute paths, no ".."). */
    private static Path shardPath(Path indexFile, String tensor, String shard) throws CheckpointFormatException {
        Path dir = indexFile.toAbsolutePath().getParent().normalize();
        Path p = dir.resolve(shard).normalize();
        if (shard.isEmpty() || Path.of(shard).isAbsolute() || !p.getParent().equals(dir)) {
            throw new CheckpointFormatException(indexFile, tensor, "shard '" + shard
                    + "' is not a file name in the index's folder");
        }
        if (!Files.isRegularFile(p)) {
            throw new CheckpointFormatException(indexFile, tensor, "shard file '" + shard + "' does not exist");
        }
        return p;
    }

    /** Tensor → reader, in shard order then each shard's data order; each listed tensor must be in its shard. */
    private static Map<String, SafetensorsReader> assign(Path indexFile, Map<String, String> shardOf,
                                                         Map<String, SafetensorsReader> readers)
            throws CheckpointFormatException {
        for (Map.Entry<String, String> e : shardOf.entrySet()) {
            if (!readers.get(e.getValue()).contains(e.getKey())) {
                throw new CheckpointFormatException(indexFile, e.getKey(), "weight_map puts it in shard '"
                        + e.getValue() + "' but that file has no such tensor");
            }
        }
        Map<String, SafetensorsReader> byTensor = new LinkedHashMap<>();
        for (Map.Entry<String, SafetensorsReader> shard : readers.entrySet()) {
            for (String name : shard.getValue().names()) {
                if (shard.getKey().equals(shardOf.get(name))) {
                    byTensor.put(name, shard.getValue());
                }
            }
        }
        return byTensor;
    }

    private static Map<String, String> metadataOf(Path indexFile, JsonNode node) throws CheckpointFormatException {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw new CheckpointFormatException(indexFile, "field 'metadata' must be a JSON object");
        }
        node.fields().forEachRemaining(f -> out.put(f.getKey(),
                f.getValue().isTextual() ? f.getValue().textValue() : f.getValue().toString()));
        return out;
    }

    /**
     * Writes {@code tensors} as shards of at most {@code maxShardBytes} data bytes each (a larger tensor gets a
     * shard of its own), named {@code model-00001-of-0000N.safetensors}, plus the index with
     * {@code metadata.total_size}. Every file is written atomically; the index last.
     */
    public static void write(Path dir, Map<String, TensorData> tensors, Map<String, String> metadata,
                             long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<Map<String, TensorData>> groups = new ArrayList<>();
        long size = 0;
        long total = 0;
        for (Map.Entry<String, TensorData> e : new TreeMap<>(tensors).entrySet()) {
            long bytes = e.getValue().data().remaining();
            if (groups.isEmpty() || (size + bytes > maxShardBytes && size > 0)) {
                groups.add(new LinkedHashMap<>());
                size = 0;
            }
            groups.get(groups.size() - 1).put(e.getKey(), e.getValue());
            size += bytes;
            total += bytes;
        }
        ObjectNode weightMap = Json.MAPPER.createObjectNode();
        for (int i = 0; i < groups.size(); i++) {
            String shard = String.format("model-%05d-of-%05d.safetensors", i + 1, groups.size());
            SafetensorsWriter.write(dir.resolve(shard), groups.get(i), metadata);
            groups.get(i).keySet().forEach(name -> weightMap.put(name, shard));
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("metadata").put("total_size", total);
        root.set("weight_map", weightMap);
        writeAtomically(dir.resolve(INDEX_FILE), Json.MAPPER.writeValueAsString(root) + "\n");
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName() + ".", ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    @Override
    public Path path() {
        return index;
    }

    @Override
    public List<String> names() {
        return List.copyOf(byTensor.keySet());
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return shard(name).shape(name);
    }

    @Override
    public String dtype(String name) {
        return shard(name).dtype(name);
    }

    @Override
    public long storedBytes(String name) {
        return shard(name).storedBytes(name);
    }

    @Override
    public float[] readFloats(String name) throws CheckpointFormatException {
        return shard(name).readFloats(name);
    }

    @Override
    public void readFloats(String name, float[] dst) throws CheckpointFormatException {
        shard(name).readFloats(name, dst);
    }

    @Override
    public NDArray load(String name, NDManager manager) throws CheckpointFormatException {
        return shard(name).load(name, manager);
    }

    /** The index's {@code metadata} (values rendered as text, e.g. {@code total_size}). */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The reader of the shard holding {@code name} (e.g. for {@link SafetensorsReader#raw}). */
    public SafetensorsReader shard(String name) {
        SafetensorsReader r = byTensor.get(name);
        if (r == null) {
            throw new IllegalArgumentException(index + ": no tensor named '" + name + "' (" + byTensor.size()
                    + " tensors)");
        }
        return r;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsReader::close);
    }
}
