package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code finetune} (with {@code --gradient-checkpointing}) → {@code generate --adapter} → {@code merge} on the real
 * SmolLM2 GGUF with a few GSM8K records
 * (3 steps, short sequences): the JSON contract keys, a PEFT adapter folder, a resumable checkpoint, a merged HF folder.
 */
class FinetuneCommandIT {
    @TempDir
    Path tmp;

    @Test
    void finetune_generateWithAdapter_merge() throws Exception {
        Path gsm = TestResources.shared("datasets/gsm8k/train.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(gsm).subList(0, 8));
        Path data = tmp.resolve("gsm8.jsonl");
        Files.write(data, lines);
        Path out = tmp.resolve("adapter");
        String model = TestResources.testModel().toString();
        CliRun r = CliRun.of("finetune", "--method", "lora", "--model", model, "--data", data.toString(),
                "--field", "instruction=question", "--field", "output=answer", "--template", "alpaca",
                "--output", out.toString(), "--max-steps", "3", "--batch-size", "2", "--max-seq-len", "96",
                "--lr", "1e-3", "--checkpoint-every", "3", "--gradient-checkpointing", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        for (String key : new String[] {"steps", "train_loss", "eval_loss", "adapter_dir", "tokens_per_s",
            "peak_rss_mb", "seconds"}) {
            assertTrue(j.has(key), key + " in " + j);
        }
        assertEquals(3, j.get("steps").asInt());
        assertTrue(Files.isRegularFile(out.resolve("adapter_config.json")));
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("checkpoint-3/trainer_state.json")));
        assertTrue(Files.readAllLines(out.resolve("metrics.jsonl")).size() >= 3);

        CliRun g = CliRun.of("generate", "--model", model, "--adapter", out.toString(), "--prompt", "2+2=",
                "--max-new-tokens", "4", "--json");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.err().contains("adapter"), g.err());

        Path merged = tmp.resolve("merged");
        CliRun m = CliRun.of("merge", "--model", model, "--adapter", out.toString(), "--output", merged.toString(),
                "--json");
        assertEquals(0, m.code(), m.err());
        assertTrue(Files.isRegularFile(merged.resolve("config.json")));
        assertTrue(Files.isRegularFile(merged.resolve("model.safetensors")));

        CliRun bad = CliRun.of("generate", "--model", model, "--adapter", tmp.resolve("nope").toString(),
                "--prompt", "x");
        assertEquals(2, bad.code(), bad.err());
    }
}
