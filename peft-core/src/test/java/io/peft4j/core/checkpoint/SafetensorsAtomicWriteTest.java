package io.peft4j.core.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A failed write leaves the previous file byte-identical and no temporary file behind. */
class SafetensorsAtomicWriteTest {
    @TempDir
    Path dir;

    private Path existing() throws Exception {
        Path file = dir.resolve("adapter_model.safetensors");
        SafetensorsWriter.write(file, Map.of("old", TensorData.f32(new float[] {1f, 2f, 3f}, 3)), Map.of("v", "1"));
        return file;
    }

    private List<Path> folder() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void producerThrowsMidWay_oldFileUntouched() throws Exception {
        Path file = existing();
        byte[] before = Files.readAllBytes(file);
        List<SafetensorsWriter.Entry> entries = List.of(
                new SafetensorsWriter.Entry("a", "F32", new long[] {1024}),
                new SafetensorsWriter.Entry("b", "F32", new long[] {1024}),
                new SafetensorsWriter.Entry("c", "F32", new long[] {1024}));
        AtomicInteger produced = new AtomicInteger();
        IOException e = assertThrows(IOException.class, () -> SafetensorsWriter.write(file, entries, Map.of(), name -> {
            if (produced.incrementAndGet() == 3) {
                throw new IOException("disk on fire while producing " + name);
            }
            return TensorData.f32(new float[1024], 1024);
        }));
        assertTrue(e.getMessage().contains("disk on fire"));
        assertEquals(3, produced.get(), "two tensors were written before the failure");
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), folder(), "no temporary file left behind");
    }

    @Test
    void producerReturnsWrongShape_refusedAndOldFileUntouched() throws Exception {
        Path file = existing();
        byte[] before = Files.readAllBytes(file);
        List<SafetensorsWriter.Entry> entries = List.of(new SafetensorsWriter.Entry("a", "F32", new long[] {2, 2}));
        IOException e = assertThrows(IOException.class, () -> SafetensorsWriter.write(file, entries, Map.of(),
                name -> TensorData.f32(new float[4], 4)));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("declares F32[2, 2]"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), folder());
    }

    @Test
    void renameFails_tempFileRemoved() throws Exception {
        Path target = dir.resolve("occupied");
        Files.createDirectories(target.resolve("child")); // a non-empty folder cannot be replaced
        assertThrows(IOException.class, () -> SafetensorsWriter.write(target,
                Map.of("x", TensorData.f32(new float[] {1f}, 1)), Map.of()));
        assertTrue(Files.isDirectory(target.resolve("child")));
        assertEquals(List.of(target), folder());
    }

    @Test
    void successfulWrite_replacesOldFile() throws Exception {
        Path file = existing();
        SafetensorsWriter.write(file, Map.of("new", TensorData.ofInts(new int[] {9}, 1)), Map.of());
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(List.of("new"), r.names());
            assertTrue(r.metadata().isEmpty());
        }
        assertEquals(List.of(file), folder());
    }
}
