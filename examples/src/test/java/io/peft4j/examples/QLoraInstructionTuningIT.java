package io.peft4j.examples;

import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link QLoraInstructionTuning} on the real model at tiny scale: 15 short Alpaca records, 3 steps of 4, 6-token answers. */
class QLoraInstructionTuningIT {
    @TempDir
    Path tmp;

    @Test
    void main_threeSteps_lowersHeldOutLoss_savesAdapter_changesAnAnswer() throws Exception {
        Path model = TestResources.testModel();
        Path data = ExampleRun.shortAlpaca(tmp.resolve("train.jsonl"), 15);
        Path adapter = tmp.resolve("adapter");
        String out = ExampleRun.capture(QLoraInstructionTuning::main, model.toString(), data.toString(),
                adapter.toString(), "3", "6");

        assertTrue(out.contains("records: 12 train, 3 held out"), out);
        double before = ExampleRun.number(out, "held-out loss before: ([0-9.]+)");
        double after = ExampleRun.number(out, "held-out loss after:  ([0-9.]+)");
        assertTrue(before > 0.5 && before < 10, "loss before " + before);
        assertTrue(after < before, "held-out loss " + before + " -> " + after);

        assertTrue(Files.size(adapter.resolve("adapter_model.safetensors")) > 1_000_000);
        assertTrue(Files.readString(adapter.resolve("adapter_config.json")).contains("\"LORA\""));
        try (Peft4jModel reloaded = Peft4jModel.builder().setPath(model).optAdapter(adapter).build()) {
            assertTrue(reloaded.peft().trainableParameterCount() > 0 || !reloaded.peft().adapterNames().isEmpty());
        }

        List<String> befores = ExampleRun.all(out, "^  before: (.*)$");
        List<String> afters = ExampleRun.all(out, "^  after:  (.*)$");
        assertEquals(3, befores.size(), out);
        assertEquals(3, afters.size(), out);
        assertNotEquals(befores, afters, "training changed none of the three answers");
    }
}
