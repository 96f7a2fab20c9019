package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.model.llama.FusedDecode;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j generate} and {@code peft4j eval} on the real model: exit codes and the --json contract. */
class GenerateEvalCommandIT {

    private static JsonNode runJson(String... args) throws Exception {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), "exit code of " + String.join(" ", args) + ": " + r.err());
        return r.json();
    }

    /** Without --quantize, generate keeps the GGUF's blocks and decodes fused from them (--quantize auto). */
    @Test
    void generate_json_lastLineHasTextTokensSpeed() throws Exception {
        String model = TestResources.testModel().toString();
        long fused = FusedDecode.steps();
        JsonNode r = runJson("generate", "--model", model, "--prompt", "What is the capital of France?",
                "--template", "chat", "--max-new-tokens", "12", "--json");
        assertTrue(r.get("text").asText().contains("Paris"), r.toString());
        assertTrue(r.get("tokens").asInt() > 0 && r.get("tokens").asInt() <= 12, r.toString());
        assertTrue(r.get("tokens_per_s").asDouble() > 0, r.toString());
        assertTrue(FusedDecode.steps() - fused >= r.get("tokens").asInt() - 1,
                "every decode step after the first token should run fused from the blocks: " + FusedDecode.decision());
    }

    /** --quantize none asks for fp32 projections: no fused block decode, and the same greedy answer. */
    @Test
    void generate_quantizeNone_decodesInFp32() throws Exception {
        String model = TestResources.testModel().toString();
        long fused = FusedDecode.steps();
        JsonNode r = runJson("generate", "--model", model, "--quantize", "none", "--prompt",
                "What is the capital of France?", "--template", "chat", "--max-new-tokens", "12", "--json");
        assertTrue(r.get("text").asText().contains("Paris"), r.toString());
        assertEquals(fused, FusedDecode.steps(), "fp32 projections have no row kernel");
    }

    @Test
    void eval_jsonl_reportsLossPerplexityTokens(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("eval.jsonl"),
                "{\"text\":\"The capital of France is Paris. The capital of Germany is Berlin.\"}\n"
                        + "{\"text\":\"Water boils at 100 degrees Celsius at sea level.\"}\n");
        JsonNode r = runJson("eval", "--model", TestResources.testModel().toString(), "--data", data.toString(), "--json");
        double loss = r.get("loss").asDouble();
        assertTrue(loss > 0 && loss < 8, r.toString());
        assertEquals(Math.exp(loss), r.get("perplexity").asDouble(), 1e-6 * Math.exp(loss));
        assertTrue(r.get("tokens").asInt() > 10, r.toString());
    }

    @Test
    void eval_missingTextField_exitsTwo(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("bad.jsonl"), "{\"body\":\"x\"}\n");
        assertEquals(2, Peft4jCommand.run("eval", "--model", TestResources.testModel().toString(), "--data",
                data.toString()));
    }
}
