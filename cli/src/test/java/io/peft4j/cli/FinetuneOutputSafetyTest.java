package io.peft4j.cli;

import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code finetune} never silently overwrites a previous run ({@code --resume} or {@code --overwrite} needed), never
 * reports success for a resume with nothing to train, and NaN/Inf weights never reach a merge or an eval's JSON.
 */
class FinetuneOutputSafetyTest {
    @TempDir
    Path tmp;
    Path model;
    Path data;

    @BeforeEach
    void setUp() throws Exception {
        model = TinyModelFolder.write(tmp.resolve("model"), TinyModelFolder.TINY, 5);
        data = TinyRun.data(tmp.resolve("data.jsonl"));
    }

    private CliRun finetune(Path out, int steps, String... extra) {
        return CliRun.of(TinyRun.finetune(model, data, out, steps, 2, extra).toArray(String[]::new));
    }

    @Test
    void finetune_nonEmptyOutputWithoutResume_refusedNamingBothOptions() throws Exception {
        Path out = tmp.resolve("run");
        CliRun first = finetune(out, 2);
        assertEquals(0, first.code(), first.err());
        List<String> before = TinyRun.snapshot(out);
        CliRun again = finetune(out, 2);
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().contains("--resume") && again.err().contains("--overwrite")
                && again.err().contains("adapter_config.json"), again.err());
        assertEquals(before, TinyRun.snapshot(out), "adapter, checkpoint and metrics untouched");
        CliRun both = finetune(out, 4, "--resume", "--overwrite");
        assertEquals(2, both.code(), both.err());
        assertEquals(before, TinyRun.snapshot(out));
    }

    @Test
    void finetune_overwrite_startsAFreshRunWithoutStaleCheckpointsOrMetrics() throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, finetune(out, 4).code());
        assertTrue(Files.isDirectory(out.resolve("checkpoint-4")));
        Files.writeString(out.resolve("README.md"), "my notes");
        CliRun r = finetune(out, 2, "--overwrite");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(out.resolve("checkpoint-4")), "the old run's later checkpoint would be resumed");
        assertTrue(Files.isDirectory(out.resolve("checkpoint-2")));
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "metrics of the new run only");
        assertEquals("my notes", Files.readString(out.resolve("README.md")), "other files stay");
    }

    @Test
    void finetune_resumeWithNothingLeftToTrain_exit2AndNothingRewritten() throws Exception {
        Path out = tmp.resolve("run");
        assertEquals(0, finetune(out, 2).code());
        List<String> before = TinyRun.snapshot(out);
        for (int steps : new int[] {2, 1}) {
            CliRun r = finetune(out, steps, "--resume");
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("nothing to train") && r.err().contains("step 2"), r.err());
            assertFalse(r.out().contains("train_loss"), r.out());
        }
        assertEquals(before, TinyRun.snapshot(out));
        CliRun more = finetune(out, 4, "--resume");
        assertEquals(0, more.code(), more.err());
        assertEquals(4, more.json().get("steps").asInt());
    }

    @Test
    void finetune_outputIsDataFileOrUnwritable_refusedBeforeTheModelLoads() throws Exception {
        CliRun r = finetune(data, 2, "--overwrite");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is a file, not a folder"), r.err());
        CliRun f = CliRun.of(TinyRun.finetune(tmp.resolve("missing-model"), data, data.resolve("out"), 2, 2)
                .toArray(String[]::new));
        assertEquals(2, f.code(), f.err());
        assertTrue(f.err().contains("cannot be written") && f.err().contains("data.jsonl is a file"), f.err());
    }

    @Test
    void nanAdapterOrNanBase_mergeAndEvalExit2AndNoNaNPrinted() throws Exception {
        Path adapter = TinyRun.adapter(tmp.resolve("adapter"));
        Path weights = adapter.resolve("adapter_model.safetensors");
        poison(weights, "lora_B");
        Path merged = tmp.resolve("merged");
        CliRun m = CliRun.of("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--output",
                merged.toString(), "--json");
        assertEquals(2, m.code(), m.err());
        assertTrue(m.err().contains("lora_B.weight") && m.err().contains("NaN"), m.err());
        assertFalse(Files.exists(merged.resolve("model.safetensors")));

        poison(model.resolve("model.safetensors"), "model.norm.weight");
        CliRun bad = CliRun.of("merge", "--model", model.toString(), "--adapter",
                TinyRun.adapter(tmp.resolve("good")).toString(), "--output", merged.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("refusing to write a NaN/Inf model"), bad.err());
        assertFalse(Files.exists(merged.resolve("model.safetensors")));
        Path texts = Files.writeString(tmp.resolve("texts.jsonl"), "{\"text\": \"a b c d e f g a b\"}\n");
        CliRun eval = CliRun.of("eval", "--model", model.toString(), "--data", texts.toString(), "--json");
        assertEquals(2, eval.code(), eval.err());
        assertFalse(eval.out().contains("\"NaN\"") || eval.out().contains(":NaN"), eval.out()); // no NaN as a value
        assertTrue(eval.err().contains("NaN/Inf"), eval.err());
    }

    /** Sets the first value of the first tensor whose name contains {@code part} to NaN. */
    private static void poison(Path file, String part) throws Exception {
        Map<String, TensorData> all = new LinkedHashMap<>();
        Map<String, String> meta;
        boolean done = false;
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            meta = r.metadata();
            for (String name : r.names()) {
                float[] v = r.readFloats(name);
                if (!done && name.contains(part)) {
                    v[0] = Float.NaN;
                    done = true;
                }
                all.put(name, TensorData.f32(v, r.shape(name)));
            }
        }
        assertTrue(done, part);
        SafetensorsWriter.write(file, all, meta);
    }
}
