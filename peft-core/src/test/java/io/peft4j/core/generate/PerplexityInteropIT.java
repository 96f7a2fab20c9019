package io.peft4j.core.generate;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Sliding-window loss of the real SmolLM2 GGUF equals transformers' (scripts/interop/reference_perplexity.py). */
class PerplexityInteropIT {

    @Test
    void evaluateTexts_smolLm2_matchesTransformersForEveryWindowSetting() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/interop/reference_perplexity.json")) {
            ref = Json.MAPPER.readTree(in);
        }
        try (Checkpoint ckpt = Checkpoints.open(TestResources.testModel());
             NDManager m = Peft4j.newManager();
             LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), m)) {
            String text = ref.get("text").asText();
            int[] expectedIds = Json.MAPPER.convertValue(ref.get("input_ids"), int[].class);
            assertArrayEquals(expectedIds, ckpt.tokenizer().encode(text, true));
            PerplexityEvaluator eval = new PerplexityEvaluator(model, ckpt.tokenizer());
            for (JsonNode w : ref.get("windows")) {
                EvalResult r = eval.evaluateTexts(List.of(text), w.get("max_length").asInt(), w.get("stride").asInt());
                String where = "window " + w.get("max_length") + " stride " + w.get("stride");
                assertEquals(w.get("tokens").asLong(), r.tokens(), where);
                assertEquals(w.get("loss").asDouble(), r.loss(), 1e-4, where);
            }
        }
    }
}
