package io.peft4j.cli;

import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.io.AtomicFolder;
import io.peft4j.core.io.CrashPoint;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kill -9} (a child JVM halted by {@link CrashPoint}) at every write and rename point of {@code merge},
 * {@code quantize} and {@code finetune --resume}: the output folder is then the complete old or the complete new
 * version (between the two renames of a swap: missing, with the complete old version beside it, which readers use),
 * and the next run in that folder succeeds and leaves no temp or old folder behind.
 */
class CrashConsistencyIT {
    @TempDir
    static Path shared;
    private static Path sharedModel;
    private static Path sharedRun;
    @TempDir
    Path tmp;

    static Stream<String> folderPoints() {
        List<String> all = new ArrayList<>(AtomicFolder.POINTS);
        all.add(1, SafetensorsWriter.TEMP_WRITTEN);
        return all.stream();
    }

    /**
     * finetune --resume 2 -> 4 swaps three folders: #1 the adapter inside checkpoint-4's temp folder, #2 checkpoint-4,
     * #3 the final adapter (the only one with an old version, so the only OLD_ASIDE). A kill anywhere in #1 leaves an
     * incomplete checkpoint temp folder, the state TEMP_CREATED#2 also leaves, so #1 is represented by one point
     * (keeping the IT's child JVMs, ~10 s each on 2 cores, to 12).
     */
    static Stream<String> finetunePoints() {
        List<String> all = new ArrayList<>(List.of(SafetensorsWriter.TEMP_WRITTEN + "#1"));
        for (String p : List.of(AtomicFolder.TEMP_CREATED, SafetensorsWriter.TEMP_WRITTEN, AtomicFolder.TEMP_COMPLETE,
                AtomicFolder.NEW_IN_PLACE, AtomicFolder.DONE)) {
            for (int i = 2; i <= 3; i++) {
                all.add(p + "#" + i);
            }
        }
        all.add(AtomicFolder.OLD_ASIDE + "#1");
        return all.stream();
    }

    /** A finished 2-step run (adapter, checkpoint-2, metrics), made once and copied for each point. */
    private static Path baseRun(Path model, Path data) throws Exception {
        if (sharedRun == null) {
            Path run = shared.resolve("run");
            assertEquals(0, CliRun.of(TinyRun.finetune(model, data, run, 2, 2).toArray(String[]::new)).code());
            sharedRun = run;
        }
        return sharedRun;
    }

    private static Path sharedModel() throws Exception {
        if (sharedModel == null) {
            sharedModel = TinyModelFolder.write(shared.resolve("model"), TinyModelFolder.TINY, 5);
        }
        return sharedModel;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path dst = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(p, dst);
                }
            }
        }
    }

    private static boolean newExpected(String point) {
        return point.equals(AtomicFolder.NEW_IN_PLACE) || point.equals(AtomicFolder.DONE);
    }

    @ParameterizedTest
    @MethodSource("folderPoints")
    void merge_killAtPoint_oldOrNewThenNextRunCleansUp(String point) throws Exception {
        Path model = sharedModel();
        Path adapter = TinyRun.adapter(tmp.resolve("adapter"));
        Path out = tmp.resolve("out");
        List<String> args = List.of("merge", "--model", model.toString(), "--adapter", adapter.toString(),
                "--output", out.toString());
        assertEquals(0, CliRun.of(args.toArray(String[]::new)).code());
        byte[] oldWeights = Files.readAllBytes(out.resolve("model.safetensors"));
        Files.writeString(out.resolve("user-note.txt"), "mine");   // with --overwrite, replaced whole
        List<String> crashArgs = new ArrayList<>(args);
        crashArgs.add("--overwrite");
        assertEquals(CrashPoint.HALT_CODE, ChildCli.run(tmp.resolve("child.log"), Map.of("peft4j.crashAt", point),
                crashArgs));

        Path seen = AtomicFolder.resolveForRead(out);
        assertEquals(newExpected(point), !Files.exists(seen.resolve("user-note.txt")), "old or new at " + point);
        for (String f : List.of("config.json", "tokenizer.json", "model.safetensors")) {
            assertTrue(Files.isRegularFile(seen.resolve(f)), f + " complete at " + point);
        }
        if (!newExpected(point)) {
            assertArrayEquals(oldWeights, Files.readAllBytes(seen.resolve("model.safetensors")));
        }
        assertEquals(0, CliRun.of(crashArgs.toArray(String[]::new)).code(), "the next run succeeds");
        assertClean(tmp);
        assertFalse(Files.exists(out.resolve("user-note.txt")));
        assertArrayEquals(oldWeights, Files.readAllBytes(out.resolve("model.safetensors")),
                "same inputs, same merged weights");
    }

    @ParameterizedTest
    @MethodSource("folderPoints")
    void quantize_killAtPoint_oldOrNewThenNextRunCleansUp(String point) throws Exception {
        Path model = sharedModel();
        Path out = tmp.resolve("out");
        assertEquals(0, CliRun.of("quantize", "--model", model.toString(), "--output", out.toString(), "--type",
                "nf4").code());
        List<String> args = List.of("quantize", "--model", model.toString(), "--output", out.toString(), "--type",
                "fp4");
        assertEquals(CrashPoint.HALT_CODE, ChildCli.run(tmp.resolve("child.log"), Map.of("peft4j.crashAt", point),
                args));
        Path seen = AtomicFolder.resolveForRead(out);
        String type = newExpected(point) ? "fp4" : "nf4";
        assertEquals(type, quantType(seen), "config.json at " + point);
        try (SafetensorsReader r = SafetensorsReader.open(seen.resolve("model.safetensors"))) {
            assertTrue(r.names().stream().anyMatch(n -> n.endsWith("bitsandbytes__" + type)),
                    "weights agree with config.json at " + point);
        }
        assertEquals(0, CliRun.of(args.toArray(String[]::new)).code(), "the next run succeeds");
        assertEquals("fp4", quantType(out));
        assertClean(tmp);
    }

    @ParameterizedTest
    @MethodSource("finetunePoints")
    void finetuneResume_killAtPoint_oldOrNewThenNextRunCleansUp(String point) throws Exception {
        Path model = sharedModel();
        Path data = TinyRun.data(shared.resolve("d.jsonl"));
        Path out = tmp.resolve("run");
        copyTree(baseRun(model, data), out);
        byte[] oldAdapter = Files.readAllBytes(out.resolve("adapter_model.safetensors"));
        assertEquals(CrashPoint.HALT_CODE, ChildCli.run(tmp.resolve("child.log"), Map.of("peft4j.crashAt", point),
                TinyRun.finetune(model, data, out, 4, 2, "--resume")));

        Path seen = AtomicFolder.resolveForRead(out);
        boolean finalSaveDone = newExpected(point.substring(0, point.indexOf('#'))) && point.endsWith("#3");
        byte[] adapter = Files.readAllBytes(seen.resolve("adapter_model.safetensors"));
        assertEquals(!finalSaveDone, java.util.Arrays.equals(oldAdapter, adapter), "old or new adapter at " + point);
        CliRun inspect = CliRun.of("inspect", "--adapter", seen.toString(), "--json");
        assertEquals(0, inspect.code(), "the adapter at " + point + " is complete: " + inspect.err());
        try (Stream<Path> s = Files.list(seen)) {
            for (Path ckpt : s.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).toList()) {
                for (String f : List.of("trainer_state.json", "optimizer.safetensors",
                        "adapters/default/adapter_model.safetensors", "adapters/default/adapter_config.json")) {
                    assertTrue(Files.isRegularFile(ckpt.resolve(f)), ckpt + "/" + f + " at " + point);
                }
            }
        }
        CliRun next = CliRun.of(TinyRun.finetune(model, data, out, 6, 2, "--resume").toArray(String[]::new));
        assertEquals(0, next.code(), "the next run resumes: " + next.err());
        assertEquals(6, next.json().get("steps").asInt());
        assertClean(tmp);
        assertClean(out);
    }

    private static String quantType(Path folder) throws Exception {
        return io.peft4j.core.Json.MAPPER.readTree(folder.resolve("config.json").toFile()).path("quantization_config")
                .path("bnb_4bit_quant_type").asText();
    }

    private static void assertClean(Path folder) throws Exception {
        try (Stream<Path> s = Files.list(folder)) {
            List<String> left = s.map(p -> p.getFileName().toString()).filter(AtomicFolder::isLeftover).toList();
            assertEquals(List.of(), left, "temp/old folders left in " + folder);
        }
    }
}
