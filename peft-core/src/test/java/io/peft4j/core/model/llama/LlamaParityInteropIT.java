package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Logits and greedy continuations of the real SmolLM2 GGUF against transformers (scripts/interop/reference_logits.py):
 * max |Δlogit| < 2e-3 at every stored value of every position, same argmax everywhere, same 32-token greedy text.
 */
class LlamaParityInteropIT {
    private static final Logger LOG = LoggerFactory.getLogger(LlamaParityInteropIT.class);
    private static final float TOLERANCE = 2e-3f;

    @Test
    void forwardAndGreedy_smolLm2Gguf_matchTransformers() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/interop/reference_logits.json")) {
            ref = Json.MAPPER.readTree(in);
        }
        List<Integer> eos = new ArrayList<>();
        ref.get("eos_token_ids").forEach(n -> eos.add(n.asInt()));
        int[] sampled = ints(ref.get("sampled_ids"));
        try (Checkpoint ckpt = Checkpoints.open(TestResources.testModel());
             NDManager m = Peft4j.newManager();
             LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), m);
             InputStream lastIn = getClass().getResourceAsStream("/interop/reference_logits_last.safetensors")) {
            NDList lastRows = NDList.decode(m, lastIn.readAllBytes());
            int vocab = model.config().vocabSize();
            float worst = 0;
            for (int p = 0; p < ref.get("prompts").size(); p++) {
                JsonNode r = ref.get("prompts").get(p);
                int[] ids = ints(r.get("input_ids"));
                assertArrayEquals(ids, ckpt.tokenizer().encode(r.get("prompt").asText(), true), "tokenizer, prompt " + p);
                float[] logits = logits(model, m, ids);
                for (int t = 0; t < ids.length; t++) {
                    int row = t * vocab;
                    assertEquals(r.get("argmax").get(t).asInt(), argmax(logits, row, vocab), "argmax prompt " + p + " pos " + t);
                    worst = Math.max(worst, maxDiff(logits, row, ints(r.get("top5_ids").get(t)), r.get("top5_values").get(t)));
                    worst = Math.max(worst, maxDiff(logits, row, sampled, r.get("sampled_values").get(t)));
                    worst = Math.max(worst, (float) Math.abs(logSumExp(logits, row, vocab) - r.get("logsumexp").get(t).asDouble()));
                }
                float[] last = lastRows.get("prompt" + p + "_last").toFloatArray();
                for (int v = 0; v < vocab; v++) {
                    worst = Math.max(worst, Math.abs(last[v] - logits[(ids.length - 1) * vocab + v]));
                }
                assertTrue(worst < TOLERANCE, "max |Δlogit| " + worst + " after prompt " + p);
                GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(ref.get("new_tokens").asInt())
                        .optEosTokenIds(eos).build();
                int[] continuation = new Generator(model).generateIds(new int[][] {ids}, greedy, TokenListener.NONE)
                        .tokens().get(0);
                assertArrayEquals(ints(r.get("greedy_continuation")), continuation, "greedy continuation, prompt " + p);
            }
            LOG.info("max |Δlogit| against transformers: {}", worst);
        }
    }

    private static float[] logits(LlamaModel model, NDManager m, int[] ids) {
        try (NDScope scope = new NDScope()) {
            long[] l = java.util.Arrays.stream(ids).asLongStream().toArray();
            NDArray out = model.forward(m.create(l, new Shape(1, l.length)), null, null);
            return out.toFloatArray();
        }
    }

    private static float maxDiff(float[] logits, int row, int[] ids, JsonNode expected) {
        float worst = 0;
        for (int i = 0; i < ids.length; i++) {
            worst = Math.max(worst, (float) Math.abs(logits[row + ids[i]] - expected.get(i).asDouble()));
        }
        return worst;
    }

    private static int argmax(float[] v, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[from + i] > v[from + best]) {
                best = i;
            }
        }
        return best;
    }

    private static double logSumExp(float[] v, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[from + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(v[from + i] - max);
        }
        return max + Math.log(sum);
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
