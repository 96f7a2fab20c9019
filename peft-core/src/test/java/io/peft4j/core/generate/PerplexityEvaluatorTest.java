package io.peft4j.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.CharTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerplexityEvaluatorTest {
    static final ModelConfig CONFIG = new ModelConfig("LlamaForCausalLM", "llama", 61, 32, 48, 2, 4, 2, 8, 1e-5,
            10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);

    /** Mean NLL of ids[1..] from one full forward, computed in Java. */
    private static double directLoss(LlamaModel model, int[] ids) {
        try (NDScope scope = new NDScope()) {
            long[] l = java.util.Arrays.stream(ids).asLongStream().toArray();
            NDArray logits = model.forward(model.manager().create(l, new Shape(1, l.length)), null, null);
            float[] v = logits.toFloatArray();
            double nll = 0;
            for (int t = 0; t + 1 < ids.length; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < 61; j++) {
                    max = Math.max(max, v[t * 61 + j]);
                }
                double sum = 0;
                for (int j = 0; j < 61; j++) {
                    sum += Math.exp(v[t * 61 + j] - max);
                }
                nll -= v[t * 61 + ids[t + 1]] - max - Math.log(sum);
            }
            return nll / (ids.length - 1);
        }
    }

    @Test
    void evaluateIds_windowCoversDocument_equalsDirectLoss() {
        int[] doc = {3, 17, 5, 42, 8, 8, 1, 60, 33, 21, 7, 9, 0, 4};
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(CONFIG, 5, m)) {
            PerplexityEvaluator eval = new PerplexityEvaluator(model, new CharTokenizer());
            EvalResult r = eval.evaluateIds(List.of(doc), 32, 16);
            assertEquals(13, r.tokens());
            assertEquals(directLoss(model, doc), r.loss(), 1e-5);
            assertEquals(Math.exp(r.loss()), r.perplexity(), 1e-9);
            EvalResult sliding = eval.evaluateIds(List.of(doc), 6, 2);
            assertEquals(13, sliding.tokens());
            assertTrue(Math.abs(sliding.loss() - r.loss()) < 1.0, "short context changes the loss only a little");
        }
    }

    @Test
    void readTexts_jsonlWithoutText_namesLine(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("a.jsonl"), "{\"text\":\"abc\"}\n\n{\"text\":\"de\"}\n");
        assertEquals(List.of("abc", "de"), PerplexityEvaluator.readTexts(good));
        Path bad = Files.writeString(dir.resolve("b.jsonl"), "{\"text\":\"abc\"}\n{\"body\":1}\n");
        PeftException e = assertThrows(PeftException.class, () -> PerplexityEvaluator.readTexts(bad));
        assertTrue(e.getMessage().contains("b.jsonl:2"), e.getMessage());
        Path txt = Files.writeString(dir.resolve("c.txt"), "plain text");
        assertEquals(List.of("plain text"), PerplexityEvaluator.readTexts(txt));
    }
}
