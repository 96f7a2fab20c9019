package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code peft4j eval} on instruction records with the real model (SmolLM2-135M-Instruct, its own chat template):
 * response-token loss in a sane range, greedy answers that overlap the references, and a one-shot prompt that
 * scores only the query's answer.
 */
class EvalInstructionIT {
    private static final String RECORDS = """
            {"instruction": "What is the capital of France?", "output": "The capital of France is Paris."}
            {"instruction": "What is the capital of Germany?", "output": "The capital of Germany is Berlin."}
            {"instruction": "What is 2 + 2?", "output": "2 + 2 = 4."}
            {"instruction": "Name the largest planet in the solar system.", "output": "Jupiter is the largest planet."}
            """;

    @Test
    void eval_chatTemplate_generate_lossAndScoresInRange(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("val.jsonl"), RECORDS);
        String model = TestResources.testModel().toString();
        CliRun r = CliRun.of("eval", "--model", model, "--data", data.toString(), "--template", "chat", "--generate",
                "--max-new-tokens", "12", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        double loss = j.get("loss").asDouble();
        assertTrue(loss > 0 && loss < 6, j.toString());
        assertEquals(Math.exp(loss), j.get("perplexity").asDouble(), 1e-6 * Math.exp(loss));
        assertTrue(j.get("tokens").asLong() >= 24, "the four answers (+ end-of-turn tokens): " + j);
        assertEquals(4, j.get("generated").asInt());
        double em = j.get("exact_match").asDouble();
        double rouge = j.get("rouge_l").asDouble();
        assertTrue(rouge > 0.2 && rouge <= 1 && em <= rouge, "an instruct model's answers overlap: " + j);
        for (JsonNode e : j.get("examples")) {
            assertEquals(AnswerScore.rougeL(e.get("answer").asText(), e.get("reference").asText()),
                    e.get("rouge_l").asDouble(), 1e-4);
        }

        CliRun shot = CliRun.of("eval", "--model", model, "--data", data.toString(), "--template", "chat",
                "--few-shot", "1", "--json");
        assertEquals(0, shot.code(), shot.err());
        assertEquals(3, shot.json().get("records").asInt());
        assertTrue(shot.json().get("tokens").asLong() < j.get("tokens").asLong(), "the shot's answer is not scored");
    }
}
