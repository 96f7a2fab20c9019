package io.peft4j.cli;

import io.peft4j.core.io.OutputFolder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code merge}/{@code quantize --output} never destroy data: a folder of user files needs {@code --overwrite}; the
 * input adapter or model folder and their ancestors are refused even with it; a file is refused; a previous output
 * of the same command is replaced; an unwritable output fails before the model loads. Each refusal: exit 2, one
 * line, and every byte on disk unchanged.
 */
class MergeOutputSafetyTest {
    @TempDir
    Path tmp;
    Path model;
    Path adapter;

    @BeforeEach
    void setUp() throws Exception {
        model = TinyModelFolder.write(tmp.resolve("model"), TinyModelFolder.TINY, 5);
        adapter = TinyRun.adapter(tmp.resolve("runs/adapter"));
    }

    private CliRun merge(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("merge", "--model", model.toString(), "--adapter",
                adapter.toString(), "--output", out.toString()));
        a.addAll(List.of(extra));
        return CliRun.of(a.toArray(String[]::new));
    }

    private static void assertRefused(CliRun r, String... words) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), w + " in " + r.err());
        }
    }

    @Test
    void merge_userFolder_refusedWithoutOverwriteAndReplacedWithIt() throws Exception {
        Path user = Files.createDirectories(tmp.resolve("photos"));
        Files.writeString(user.resolve("holiday.jpg"), "precious");
        List<String> before = TinyRun.snapshot(tmp);
        assertRefused(merge(user), "not empty", "holiday.jpg", "--overwrite");
        assertEquals(before, TinyRun.snapshot(tmp), "nothing on disk changed");
        CliRun ok = merge(user, "--overwrite");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.isRegularFile(user.resolve("model.safetensors")));
        assertFalse(Files.exists(user.resolve("holiday.jpg")), "--overwrite replaces the folder whole");
    }

    @Test
    void merge_adapterFolderOrItsParentOrTheModel_refusedEvenWithOverwrite() throws Exception {
        List<String> before = TinyRun.snapshot(tmp);
        assertRefused(merge(adapter, "--overwrite"), "is --adapter");
        assertRefused(merge(adapter.getParent(), "--overwrite"), "contains --adapter");
        assertRefused(merge(tmp, "--overwrite"), "contains --model");
        assertRefused(merge(model, "--overwrite"), "is --model");
        assertEquals(before, TinyRun.snapshot(tmp), "nothing on disk changed");
    }

    @Test
    void merge_outputIsAFileOrUnderAFile_refusedBeforeTheModelLoads() throws Exception {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "keep me");
        assertRefused(merge(file, "--overwrite"), "is a file");
        assertEquals("keep me", Files.readString(file));
        // a missing model would fail its own way when loading: the output is checked first
        CliRun r = CliRun.of("merge", "--model", tmp.resolve("missing.gguf").toString(), "--adapter",
                adapter.toString(), "--output", file.resolve("out").toString());
        assertRefused(r, "cannot be written", "notes.txt is a file");
    }

    @Test
    void merge_twiceIntoSameOutput_replacesItsOwnOutputWithMarker() throws Exception {
        Path out = tmp.resolve("merged");
        assertEquals(0, merge(out).code());
        assertEquals("merge", OutputFolder.writtenBy(out).orElseThrow());
        CliRun again = merge(out, "--json");
        assertEquals(0, again.code(), again.err());
        try (var s = Files.list(tmp)) {
            assertEquals(List.of("merged", "model", "runs"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temp or old folder left");
        }
        // a quantize output is not a merge output: replacing it needs --overwrite
        Path q = tmp.resolve("q");
        assertEquals(0, CliRun.of("quantize", "--model", model.toString(), "--output", q.toString()).code());
        assertRefused(merge(q), "not a previous peft4j merge output");
        assertEquals(0, CliRun.of("quantize", "--model", model.toString(), "--output", q.toString()).code(),
                "quantize replaces its own output");
        assertRefused(CliRun.of("quantize", "--model", model.toString(), "--output", out.toString()), "--overwrite");
        assertRefused(CliRun.of("quantize", "--model", model.toString(), "--output", model.getParent().toString(),
                "--overwrite"), "contains --model");
    }
}
