package io.peft4j.core.checkpoint;

import io.peft4j.core.CheckpointFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardedSafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void write_thenOpenFolder_roundTripsEveryTensor() throws Exception {
        Map<String, TensorData> tensors = SafetensorsRoundTripTest.everyDtype(3);
        ShardedSafetensors.write(dir, tensors, Map.of("format", "pt"), 100);
        assertTrue(Files.exists(dir.resolve("model-00006-of-00006.safetensors")));
        try (TensorSource src = SafetensorsReader.openModelFolder(dir)) {
            ShardedSafetensors sharded = assertInstanceOf(ShardedSafetensors.class, src);
            assertEquals(tensors.keySet(), Set.copyOf(src.names()));
            for (var e : tensors.entrySet()) {
                assertEquals(e.getValue().dtype(), src.dtype(e.getKey()));
                assertArrayEquals(e.getValue().shape(), src.shape(e.getKey()));
                assertEquals(e.getValue().data(), sharded.shard(e.getKey()).raw(e.getKey()), e.getKey());
                assertArrayEquals(e.getValue().toFloats(), src.readFloats(e.getKey()));
            }
            long total = tensors.values().stream().mapToLong(t -> t.data().remaining()).sum();
            assertEquals(String.valueOf(total), src.metadata().get("total_size"));
        }
    }

    @Test
    void openFolder_singleFile_preferred() throws Exception {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("x", TensorData.f32(new float[] {1f}, 1)),
                Map.of());
        try (TensorSource src = SafetensorsReader.openModelFolder(dir)) {
            assertInstanceOf(SafetensorsReader.class, src);
            assertEquals(List.of("x"), src.names());
        }
        Path empty = Files.createDirectory(dir.resolve("empty"));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> SafetensorsReader.openModelFolder(empty));
        assertTrue(e.getMessage().contains("no model.safetensors"), e.getMessage());
    }

    @Test
    void index_missingShard_refusedNamingTensorAndShard() throws Exception {
        Files.writeString(dir.resolve(ShardedSafetensors.INDEX_FILE),
                "{\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\"}}");
        assertRefused("tensor 'w'", "shard file 'model-00001-of-00002.safetensors' does not exist");
    }

    @Test
    void index_tensorNotInItsShard_refused() throws Exception {
        SafetensorsWriter.write(dir.resolve("s1.safetensors"), Map.of("x", TensorData.f32(new float[] {1f}, 1)),
                Map.of());
        Files.writeString(dir.resolve(ShardedSafetensors.INDEX_FILE),
                "{\"weight_map\":{\"x\":\"s1.safetensors\",\"y\":\"s1.safetensors\"}}");
        assertRefused("tensor 'y'", "that file has no such tensor");
    }

    @Test
    void index_pathEscapingFolder_refused() throws Exception {
        Files.writeString(dir.resolve(ShardedSafetensors.INDEX_FILE), "{\"weight_map\":{\"x\":\"../evil.safetensors\"}}");
        assertRefused("tensor 'x'", "is not a file name in the index's folder");
    }

    @Test
    void index_withoutWeightMap_refused() throws Exception {
        Files.writeString(dir.resolve(ShardedSafetensors.INDEX_FILE), "{\"metadata\":{}}");
        assertRefused(ShardedSafetensors.INDEX_FILE, "missing or non-object field 'weight_map'");
    }

    private void assertRefused(String names, String fragment) {
        Path index = dir.resolve(ShardedSafetensors.INDEX_FILE);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> ShardedSafetensors.open(index));
        assertTrue(e.getMessage().startsWith(index.toString()) && e.getMessage().contains(names)
                && e.getMessage().contains(fragment), e.getMessage());
    }
}
