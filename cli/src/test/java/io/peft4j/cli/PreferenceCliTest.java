package io.peft4j.cli;

import io.peft4j.core.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code finetune --objective dpo} on a tiny model folder reports trl's reward metrics; {@code data} detects a
 * preference file and counts skipped pairs and truncation; bad objective options exit 2 naming the option.
 */
class PreferenceCliTest {
    private static final ModelConfig TINY = TinyModelFolder.TINY;

    @TempDir
    Path tmp;

    String prefs() throws Exception {
        StringBuilder sb = new StringBuilder();
        String[] words = {"a", "b", "c"};
        for (int i = 0; i < 8; i++) {
            sb.append("{\"prompt\": \"").append(words[i % 3]).append(" b\", \"chosen\": \" c a\", \"rejected\": \" ")
                    .append(words[(i + 1) % 3]).append(" b c\"}\n");
        }
        sb.append("{\"prompt\": \"a\", \"chosen\": \" same\", \"rejected\": \" same\"}\n");
        return Files.writeString(tmp.resolve("prefs.jsonl"), sb.toString()).toString();
    }

    @Test
    void finetuneDpo_andData_onAPreferenceFile() throws Exception {
        String model = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        String data = prefs();
        CliRun d = CliRun.of("data", "--model", model, "--data", data, "--max-seq-len", "6", "--max-prompt-length",
                "1", "--json");
        assertEquals(0, d.code(), d.err());
        assertEquals("preference", d.json().get("format").asText());
        assertEquals(8, d.json().get("pairs").asInt());
        assertEquals(1, d.json().get("bad_records").asInt());
        assertEquals(9, d.json().get("bad_lines").get(0).get("line").asInt());
        assertTrue(d.json().get("prompt_truncated").asInt() > 0, d.out());

        CliRun f = CliRun.of("finetune", "--model", model, "--data", data, "--objective", "dpo", "--beta", "0.5",
                "--max-steps", "2", "--batch-size", "2", "--output", tmp.resolve("out").toString(), "--json");
        assertEquals(0, f.code(), f.err());
        assertEquals(2, f.json().get("steps").asInt());
        assertTrue(f.json().has("rewards_accuracies") && f.json().has("rewards_margins"), f.out());
        assertTrue(Files.readString(tmp.resolve("out/metrics.jsonl")).contains("\"rewards/margins\""));
        assertTrue(Files.exists(tmp.resolve("out/adapter_model.safetensors")));
    }

    @Test
    void badObjectiveOptions_exit2() throws Exception {
        String model = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        String data = prefs();
        CliRun bad = CliRun.of("finetune", "--model", model, "--data", data, "--objective", "kto",
                "--output", tmp.resolve("o1").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--objective"), bad.err());
        CliRun beta = CliRun.of("finetune", "--model", model, "--data", data, "--objective", "ipo",
                "--label-smoothing", "0.1", "--output", tmp.resolve("o2").toString());
        assertEquals(2, beta.code(), beta.err());
        assertTrue(beta.err().contains("label_smoothing"), beta.err());
    }
}
