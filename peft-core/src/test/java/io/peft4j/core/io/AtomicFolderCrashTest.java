package io.peft4j.core.io;

import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a child JVM ({@code Runtime.halt}, as {@code kill -9}) at every write and rename point of an
 * {@link AtomicFolder#replace}, then checks the folder on disk is the complete old or the complete new version (or,
 * between the two renames, missing with the complete old version beside it, which readers use), and that
 * {@link AtomicFolder#recover} leaves exactly one complete version and nothing else.
 */
class AtomicFolderCrashTest {
    @TempDir
    Path dir;

    static Stream<String> points() {
        List<String> all = new ArrayList<>(AtomicFolder.POINTS);
        all.add(1, SafetensorsWriter.TEMP_WRITTEN);
        return all.stream();
    }

    @ParameterizedTest
    @MethodSource("points")
    void killAt_point_oldOrNewCompleteAndRecovered(String point) throws Exception {
        Path t = dir.resolve("out");
        AtomicFolderCrashMain.write(t, 1);
        Files.writeString(t.resolve("user.txt"), "kept");
        int code = child(t, 2, point);
        assertEquals(CrashPoint.HALT_CODE, code, "the child halted at " + point);

        Path visible = AtomicFolder.resolveForRead(t);
        int seen = version(visible);
        int expected = List.of(AtomicFolder.NEW_IN_PLACE, AtomicFolder.DONE).contains(point) ? 2 : 1;
        assertEquals(expected, seen, "after a kill at " + point);
        AtomicFolder.recover(t);
        assertEquals(List.of("out"), AtomicFolderTest.names(dir), "recovery left no temp or old folder");
        assertEquals(expected, version(t));
        assertEquals(0, child(t, 3, "none"), "the next save succeeds");
        assertEquals(3, version(t));
        assertEquals(List.of("out"), AtomicFolderTest.names(dir));
    }

    /** The version a complete folder holds; fails on a torn one (files of two versions, or one missing). */
    private static int version(Path folder) throws Exception {
        assertEquals(List.of("a.txt", "b.txt", "user.txt", "w.safetensors"), AtomicFolderTest.names(folder),
                "complete folder " + folder);
        int v = Integer.parseInt(Files.readString(folder.resolve("a.txt")));
        assertEquals(v, Integer.parseInt(Files.readString(folder.resolve("b.txt"))), "torn: a.txt vs b.txt");
        try (SafetensorsReader r = SafetensorsReader.open(folder.resolve("w.safetensors"))) {
            assertArrayEquals(new float[] {v, v}, r.readFloats("w"), "torn: weights vs text files");
        }
        assertEquals("kept", Files.readString(folder.resolve("user.txt")));
        return v;
    }

    private static int child(Path target, int version, String point) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dpeft4j.crashAt=" + point, "-cp", System.getProperty("java.class.path"),
                AtomicFolderCrashMain.class.getName(), target.toString(), Integer.toString(version))
                .redirectErrorStream(true).redirectOutput(target.resolveSibling("child.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        Files.deleteIfExists(target.resolveSibling("child.log"));
        return p.exitValue();
    }
}
