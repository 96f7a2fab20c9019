package io.peft4j.examples;

import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link EvaluateAdapter} on the real model: 4 short Alpaca records (1 shot, 3 scored), 4-token answers, a random LoRA against none, 1-shot. */
class EvaluateAdapterIT {
    @TempDir
    Path tmp;

    @Test
    void main_adapterVersusNone_printsLossPerplexityAndExactMatchInRange() throws Exception {
        Path model = TestResources.testModel();
        Path data = ExampleRun.shortAlpaca(tmp.resolve("val.jsonl"), 4);
        Path adapter = ExampleRun.randomLora(model, tmp.resolve("adapter"), 3);

        String none = ExampleRun.capture(EvaluateAdapter::main, model.toString(), data.toString(), "none", "1", "4");
        String with = ExampleRun.capture(EvaluateAdapter::main, model.toString(), data.toString(), adapter.toString(),
                "1", "4");
        for (String out : new String[] {none, with}) {
            assertTrue(out.contains("3 records, 1-shot"), out);
            double loss = ExampleRun.number(out, "loss ([0-9.]+), perplexity");
            double ppl = ExampleRun.number(out, "perplexity ([0-9.]+)");
            assertTrue(loss > 0.05 && loss < 15, "loss " + loss);
            assertEquals(Math.exp(loss), ppl, 0.01 * ppl + 0.002, "perplexity = exp(loss)");
            assertTrue(ExampleRun.number(out, "over (\\d+) answer tokens") >= 3, out);
            double exact = ExampleRun.number(out, "exact match ([0-9.]+)");
            assertTrue(exact >= 0 && exact <= 1, "exact match " + exact);
        }
        assertNotEquals(ExampleRun.number(none, "loss ([0-9.]+), perplexity"),
                ExampleRun.number(with, "loss ([0-9.]+), perplexity"), "the adapter should change the loss");
    }
}
