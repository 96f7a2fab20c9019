package io.peft4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DPO learning proof on the real model ({@link PreferenceTuning}): preference pairs built from GSM8K, where
 * the chosen answer is GSM8K's worked solution ending in {@code #### N} and the rejected one is the same solution
 * ending in a perturbed number {@code #### N+d} (d a seeded non-zero integer in [-9, 9]); calculator annotations
 * {@code <<...>>} are dropped. Training pairs come from GSM8K's train split, held-out pairs from its test split (the
 * shortest solutions, to keep the run small). LoRA r 8 with DPO must raise held-out {@code rewards/accuracies} to at
 * least 0.85 with a positive chosen-minus-rejected log-prob margin, and the greedy next word after the shared
 * solution must pick the right number at least as often as before training.
 */
class PreferenceTuningIT {
    static final int TRAIN_PAIRS = 16;
    static final int HELD_OUT_PAIRS = 10;
    static final int STEPS = 8;
    private static final Pattern FINAL = Pattern.compile("\n#### (-?[0-9][0-9,]*)$");

    @TempDir
    Path tmp;

    @Test
    void dpo_gsm8kRightVersusPerturbedNumber_heldOutAccuracyAtLeast085() throws Exception {
        Path model = TestResources.testModel();
        Path train = pairs(TestResources.shared("datasets/gsm8k/train.jsonl"), TRAIN_PAIRS, tmp.resolve("train.jsonl"));
        Path heldOut = pairs(TestResources.shared("datasets/gsm8k/test.jsonl"), HELD_OUT_PAIRS,
                tmp.resolve("held-out.jsonl"));
        Path adapter = tmp.resolve("dpo-adapter");
        String out = ExampleRun.capture(PreferenceTuning::main, model.toString(), train.toString(),
                heldOut.toString(), adapter.toString(), Integer.toString(STEPS), "0.1");

        assertTrue(out.contains("pairs: " + TRAIN_PAIRS + " train, " + HELD_OUT_PAIRS + " held out"), out);
        String after = "after " + STEPS + " steps: ";
        double accuracyBefore = ExampleRun.number(out, "before: held-out rewards/accuracies ([0-9.]+)");
        double accuracyAfter = ExampleRun.number(out, after + "held-out rewards/accuracies ([0-9.]+)");
        double marginAfter = ExampleRun.number(out, after + ".*log-prob margin (-?[0-9.]+)");
        double rewardMarginAfter = ExampleRun.number(out, after + ".*rewards/margins (-?[0-9.]+)");
        double greedyBefore = ExampleRun.number(out, "before: .*greedy prefers chosen ([0-9]+) of");
        double greedyAfter = ExampleRun.number(out, after + ".*greedy prefers chosen ([0-9]+) of");
        System.err.printf("GSM8K DPO: held-out accuracy %.3f -> %.3f, reward margin %.4f, log-prob margin %.4f, "
                + "greedy right number %d -> %d of %d%n", accuracyBefore, accuracyAfter, rewardMarginAfter,
                marginAfter, (int) greedyBefore, (int) greedyAfter, HELD_OUT_PAIRS);
        assertEquals(0.0, accuracyBefore, 1e-9, "a fresh LoRA is the reference: every reward is 0, no pair is won");
        assertTrue(accuracyAfter >= 0.85, "held-out rewards/accuracies " + accuracyAfter);
        assertTrue(rewardMarginAfter > 0, "held-out rewards/margins " + rewardMarginAfter);
        assertTrue(marginAfter > 0, "held-out chosen - rejected log-prob " + marginAfter);
        assertTrue(greedyAfter >= greedyBefore, "greedy right number " + greedyBefore + " -> " + greedyAfter);
        assertTrue(Files.readString(adapter.resolve("adapter_config.json")).contains("\"LORA\""));
    }

    /**
     * Writes the first {@code count} records of a GSM8K file whose solution is at most 120 characters (question at
     * most 200) as trl string-form pairs: chosen = the solution, rejected = the solution with its final number moved
     * by a seeded non-zero d in [-9, 9].
     */
    static Path pairs(Path gsm8k, int count, Path out) throws IOException {
        List<String> lines = new ArrayList<>();
        Random random = new Random(11);
        for (String line : Files.readAllLines(gsm8k)) {
            JsonNode r = Json.MAPPER.readTree(line);
            String question = r.get("question").asText();
            String solution = r.get("answer").asText().replaceAll("<<[^>]*>>", "");
            Matcher m = FINAL.matcher(solution);
            if (solution.length() > 120 || question.length() > 200 || !m.find()) {
                continue;
            }
            long right = Long.parseLong(m.group(1).replace(",", ""));
            int d = random.nextInt(9) + 1;
            long wrong = right + (random.nextBoolean() ? d : -d);
            ObjectNode pair = Json.MAPPER.createObjectNode();
            pair.put("prompt", question);
            pair.put("chosen", solution);
            pair.put("rejected", solution.substring(0, m.start()) + "\n#### " + wrong);
            lines.add(pair.toString());     // compact: one record per line
            if (lines.size() == count) {
                break;
            }
        }
        assertEquals(count, lines.size(), "short GSM8K records in " + gsm8k);
        return Files.write(out, lines);
    }
}
