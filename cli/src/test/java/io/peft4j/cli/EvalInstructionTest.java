package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.SpecialTokens;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code peft4j eval} on instruction records (tiny random model, alpaca template): the loss is the Trainer's eval
 * loss over response tokens, {@code --generate} scores greedy answers (1.0 when the references are the model's own
 * answers), {@code --few-shot} scores only the query's answer, and bad combinations exit 2 before loading.
 */
class EvalInstructionTest {
    private static final String RECORDS = """
            {"instruction": "a b", "output": "c d"}
            {"instruction": "b a c", "output": "e"}
            {"instruction": "d", "input": "a a", "output": "f g a"}
            {"instruction": "c c b", "output": "b b"}
            {"instruction": "g f", "output": "a c e g"}
            """;

    @TempDir
    Path tmp;

    private Path model;
    private Path data;

    @BeforeEach
    void write() throws Exception {
        model = TinyModelFolder.write(tmp.resolve("m"), TinyModelFolder.TINY, 5);
        data = Files.writeString(tmp.resolve("val.jsonl"), RECORDS);
    }

    @Test
    void eval_alpacaRecords_lossEqualsTrainerEvaluateOverResponseTokens() throws Exception {
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--template", "alpaca",
                "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        List<Example> examples;
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            examples = ExampleEncoder.builder().setTokenizer(tok)
                    .setTemplate(ChatTemplate.named("alpaca", SpecialTokens.of(tok))).optMaxSeqLen(512).build()
                    .encodeAll(DatasetReader.builder().setPath(data).build().readAll().records()).forTrainer();
        }
        // the response tokens: "c d", "e", "f g a", "b b", "a c e g" = 12 (the tiny tokenizer has no EOS)
        assertEquals(12, j.get("tokens").asLong(), r.out());
        try (NDManager m = Peft4j.newManager(); LlamaModel lm = LlamaModel.random(TinyModelFolder.TINY, 5, m);
             PeftModel peft = PeftModel.wrap(lm);
             Trainer trainer = new Trainer(peft, TrainerConfig.builder().optEpochs(1).optBatchSize(4).build())) {
            EvalMetrics expected = trainer.evaluate(examples);
            assertEquals(expected.tokens(), j.get("tokens").asLong());
            assertEquals(expected.loss(), j.get("loss").asDouble(), 1e-5, r.out());
            assertEquals(Math.exp(j.get("loss").asDouble()), j.get("perplexity").asDouble(), 1e-6);
        }
        CliRun detected = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(j.get("loss").asDouble(), detected.json().get("loss").asDouble(), 0,
                "alpaca records are detected without --template (the tiny model has no chat template)");
    }

    @Test
    void eval_generate_scoresGreedyAnswers_ownAnswersAsReferencesScoreOne() throws Exception {
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--generate",
                "--max-new-tokens", "3", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals(5, j.get("generated").asInt());
        double em = j.get("exact_match").asDouble();
        double rouge = j.get("rouge_l").asDouble();
        assertTrue(em >= 0 && em <= 1 && rouge >= em && rouge <= 1, r.out());
        JsonNode examples = j.get("examples");
        assertEquals(Math.round(5 * (1 - em)), examples.size(), "every mismatch is shown (at most 5)");
        StringBuilder own = new StringBuilder();
        for (JsonNode e : examples) {
            assertEquals(AnswerScore.rougeL(e.get("answer").asText(), e.get("reference").asText()),
                    e.get("rouge_l").asDouble(), 1e-4);
        }
        for (int i = 0; i < 5; i++) {
            String answer = answerOf(examples, i);
            String instruction = List.of("a b", "b a c", "d", "c c b", "g f").get(i);
            String input = i == 2 ? ", \"input\": \"a a\"" : "";
            own.append("{\"instruction\": \"").append(instruction).append('"').append(input)
                    .append(", \"output\": \"").append(answer == null ? reference(i) : answer).append("\"}\n");
        }
        Path ownData = Files.writeString(tmp.resolve("own.jsonl"), own.toString());
        JsonNode again = CliRun.of("eval", "--model", model.toString(), "--data", ownData.toString(), "--generate",
                "--max-new-tokens", "3", "--json").json();
        assertEquals(1.0, again.get("exact_match").asDouble(), 0, again.toString());
        assertEquals(1.0, again.get("rouge_l").asDouble(), 0, again.toString());
        assertEquals(0, again.get("examples").size());
    }

    @Test
    void eval_fewShot_scoresOnlyTheQuerysAnswer_shotsFromTheDataAreNotScored() throws Exception {
        JsonNode zero = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--json").json();
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--few-shot", "1",
                "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("4 alpaca records") && r.err().contains("1-shot"), r.err());
        // records 1..4 are scored: 12 response tokens minus the 2 of record 0 (now the shot)
        assertEquals(10, r.json().get("tokens").asLong(), r.out());
        assertEquals(4, r.json().get("records").asInt());
        assertTrue(Math.abs(zero.get("loss").asDouble() - r.json().get("loss").asDouble()) > 1e-6,
                "the shot changes the context, so the loss");
        Path shots = Files.writeString(tmp.resolve("shots.jsonl"), "{\"instruction\": \"e\", \"output\": \"f\"}\n"
                + "{\"instruction\": \"f\", \"output\": \"g\"}\n");
        CliRun fromFile = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--few-shot", "2",
                "--few-shot-data", shots.toString(), "--json");
        assertEquals(12, fromFile.json().get("tokens").asLong(), "every record of --data is scored");
    }

    @Test
    void eval_badInstructionOptions_exit2BeforeLoading() throws Exception {
        Path text = Files.writeString(tmp.resolve("t.jsonl"), "{\"text\": \"a b c\"}\n");
        String none = tmp.resolve("no-model").toString();
        assertExit2(CliRun.of("eval", "--model", model.toString(), "--data", text.toString(), "--generate"),
                "--generate and --few-shot need instruction records");
        assertExit2(CliRun.of("eval", "--model", none, "--data", data.toString(), "--few-shot", "5"),
                "--few-shot 5 takes the first 5 records of");
        assertExit2(CliRun.of("eval", "--model", none, "--data", data.toString(), "--few-shot", "-1"),
                "--few-shot must be >= 0");
        assertExit2(CliRun.of("eval", "--model", none, "--data", data.toString(), "--few-shot-data", data.toString()),
                "--few-shot-data needs --few-shot");
        JsonNode plain = CliRun.of("eval", "--model", model.toString(), "--data", text.toString(), "--json").json();
        assertEquals(2, plain.get("tokens").asLong(), "text records keep the sliding-window path: 3 tokens, 2 scored");
    }

    private static String answerOf(JsonNode mismatches, int record) {
        for (JsonNode e : mismatches) {
            if (e.get("record").asInt() == record) {
                return e.get("answer").asText();
            }
        }
        return null;
    }

    private static String reference(int record) {
        return List.of("c d", "e", "f g a", "b b", "a c e g").get(record);
    }

    private static void assertExit2(CliRun r, String text) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("peft4j: ") && lines[lines.length - 1].contains(text), r.err());
    }
}
