package io.peft4j.examples;

import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PromptTuningClassifier} on the real model at tiny scale: 16 inline sentiment records, 3 steps. */
class PromptTuningClassifierIT {
    private static final String[][] REVIEWS = {
        {"I loved every minute of this film.", "positive"}, {"The food was cold and the waiter was rude.", "negative"},
        {"What a wonderful, warm story.", "positive"}, {"I want my money back.", "negative"},
        {"The best concert I have ever been to.", "positive"}, {"Boring from start to finish.", "negative"},
        {"The hotel staff were friendly and helpful.", "positive"}, {"The battery died after one day.", "negative"},
        {"A delightful book, I could not put it down.", "positive"}, {"The plot made no sense at all.", "negative"},
        {"Great value and fast delivery.", "positive"}, {"It broke the first time I used it.", "negative"},
        {"My kids adored this game.", "positive"}, {"Terrible sound and a blurry screen.", "negative"},
        {"Fresh, tasty and beautifully served.", "positive"}, {"The worst service I have had in years.", "negative"},
    };

    @TempDir
    Path tmp;

    @Test
    void main_threeSteps_printsAccuraciesInRange_lowersHeldOutLoss_savesThePrompt() throws Exception {
        Path model = TestResources.testModel();
        List<String> lines = new ArrayList<>();
        for (String[] r : REVIEWS) {
            lines.add("{\"instruction\": \"Is the sentiment of this review positive or negative?\", \"input\": \""
                    + r[0] + "\", \"output\": \"" + r[1] + "\"}");
        }
        Path data = Files.write(tmp.resolve("sentiment.jsonl"), lines);
        Path adapter = tmp.resolve("soft-prompt");
        String out = ExampleRun.capture(PromptTuningClassifier::main, model.toString(), data.toString(),
                adapter.toString(), "3", "8");

        assertTrue(out.contains("records: 12 train, 4 held out"), out);
        double lossBefore = ExampleRun.number(out, "before \\(no soft prompt\\): held-out loss ([0-9.]+)");
        double lossAfter = ExampleRun.number(out, "after \\(3 steps\\): held-out loss ([0-9.]+)");
        double accBefore = ExampleRun.number(out, "before \\(no soft prompt\\): .*accuracy ([0-9.]+)");
        double accAfter = ExampleRun.number(out, "after \\(3 steps\\): .*accuracy ([0-9.]+)");
        for (double acc : new double[] {accBefore, accAfter}) {
            assertTrue(acc >= 0 && acc <= 1 && Math.round(acc * 4) == acc * 4, "accuracy over 4 records: " + acc);
        }
        assertTrue(lossBefore > 0.1 && lossBefore < 15, "loss before " + lossBefore);
        assertTrue(lossAfter < lossBefore, "held-out loss " + lossBefore + " -> " + lossAfter);
        assertTrue(out.contains("trainable params: 4,608"), out);   // 8 virtual tokens x hidden 576
        assertTrue(Files.readString(adapter.resolve("adapter_config.json")).contains("PROMPT_TUNING"));
        assertTrue(Files.size(adapter.resolve("adapter_model.safetensors")) >= 8 * 576 * 4);
    }
}
