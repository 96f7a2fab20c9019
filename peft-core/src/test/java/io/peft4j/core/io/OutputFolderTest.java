package io.peft4j.core.io;

import io.peft4j.core.PeftException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link OutputFolder} classification and input protection, {@link OutputLock} exclusion, {@link FiniteValues}. */
class OutputFolderTest {
    @TempDir
    Path dir;

    @Test
    void classify_eachState() throws Exception {
        Path out = dir.resolve("out");
        assertEquals(OutputFolder.State.ABSENT, OutputFolder.classify(out, "merge"));
        Files.createDirectories(out.resolve(".x.peft4j-tmp-0a"));
        Files.writeString(out.resolve(OutputLock.FILE_NAME), "1");
        assertEquals(OutputFolder.State.EMPTY, OutputFolder.classify(out, "merge"), "lock and leftovers only");
        OutputFolder.writeMarker(out, "merge");
        assertEquals(OutputFolder.State.SAME_KIND, OutputFolder.classify(out, "merge"));
        assertEquals(OutputFolder.State.OTHER_CONTENT, OutputFolder.classify(out, "quantize"));
        Files.delete(out.resolve(OutputFolder.MARKER));
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertEquals(OutputFolder.State.OTHER_CONTENT, OutputFolder.classify(out, "merge"));
        assertEquals(OutputFolder.State.NOT_A_FOLDER, OutputFolder.classify(out.resolve("notes.txt"), "merge"));
    }

    @Test
    void endangeredInput_sameOrAncestorFolder_found() throws Exception {
        Path adapter = Files.createDirectories(dir.resolve("runs/a1"));
        Path model = Files.writeString(dir.resolve("m.gguf"), "");
        assertEquals(Optional.of(adapter), OutputFolder.endangeredInput(adapter, List.of(model, adapter)));
        assertEquals(Optional.of(adapter), OutputFolder.endangeredInput(dir.resolve("runs/../runs"),
                List.of(adapter)), "a parent of the input, spelled with ..");
        assertEquals(Optional.of(model), OutputFolder.endangeredInput(dir, List.of(model)));
        assertEquals(Optional.empty(), OutputFolder.endangeredInput(dir.resolve("runs/a2"), List.of(model, adapter)));
        assertEquals(Optional.empty(), OutputFolder.endangeredInput(adapter.resolve("merged"), List.of(adapter)),
                "a folder inside the input does not delete it");
    }

    @Test
    void unwritableReason_pathUnderAFile_named() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertTrue(OutputFolder.unwritableReason(file.resolve("out")).orElseThrow().contains("is a file"));
        assertEquals(Optional.empty(), OutputFolder.unwritableReason(dir.resolve("new/deeper")));
    }

    @Test
    void outputLock_secondAcquire_refusedNamingPid_thenFreeAfterClose() throws Exception {
        Path out = dir.resolve("out");
        try (OutputLock lock = OutputLock.acquire(out)) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(out.resolve(OutputLock.FILE_NAME)));
            PeftException e = assertThrows(PeftException.class, () -> OutputLock.acquire(out));
            assertTrue(e.getMessage().contains("PID " + ProcessHandle.current().pid()), e.getMessage());
        }
        try (OutputLock again = OutputLock.acquire(out)) {
            assertEquals(out.toAbsolutePath().normalize(), again.folder());
        }
        PeftException e = assertThrows(PeftException.class, () -> OutputLock.acquire(out.resolve(OutputLock.FILE_NAME)
                .resolve("sub")));
        assertTrue(e.getMessage().contains("cannot write into the output folder"), e.getMessage());
    }

    @Test
    void finiteValues_nanAndInf_namedWithIndex() {
        assertEquals(-1, FiniteValues.firstNonFinite(new float[] {0f, -1e30f, Float.MIN_VALUE}));
        assertEquals(2, FiniteValues.firstNonFinite(new float[] {0f, 1f, Float.NaN, Float.POSITIVE_INFINITY}));
        assertEquals("tensor 'w' has a non-finite value (-Infinity) at index 1 of 2",
                FiniteValues.describe("w", new float[] {1f, Float.NEGATIVE_INFINITY}));
    }
}
