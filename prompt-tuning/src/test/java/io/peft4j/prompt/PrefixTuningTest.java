package io.peft4j.prompt;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.peft4j.prompt.TinyModels.logits;
import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prefix tuning on the tiny GQA model (2 layers, 4 heads, 2 key/value heads of 8): PEFT's grouped-query dimensions,
 * its saved shape, learning, save/load and generation through the KV cache. The layout of the saved prefix against
 * PEFT itself is checked by {@code PromptTuningInteropIT} on the real model.
 */
class PrefixTuningTest {
    /** Key/value width of the tiny model (2 kv heads × 8) and the saved row width (2 layers × 2 × 16). */
    static final int TOKEN_DIM = 16;
    static final int WIDTH = 64;

    @TempDir
    Path tmp;

    static PrefixTuningConfig config(boolean projection) {
        return PrefixTuningConfig.builder().setNumVirtualTokens(4).optPrefixProjection(projection).build();
    }

    @Test
    void methodIsFoundThroughServiceLoader_andJsonRoundTrips() throws PeftException {
        assertEquals(PrefixTuningMethod.class, AdapterMethod.forPeftType("PREFIX_TUNING").getClass());
        String json = "{\"peft_type\":\"PREFIX_TUNING\",\"num_virtual_tokens\":4,\"peft_version\":\"0.21.2\"}";
        PrefixTuningConfig c = assertInstanceOf(PrefixTuningConfig.class, AdapterConfig.fromJson(json, "t"));
        assertFalse(c.prefixProjection());
        assertNull(c.initWeights());
        assertEquals(c, AdapterConfig.fromJson(c.toJson(), "again"));
        assertTrue(c.toJson().contains("\"peft_version\""));
    }

    @Test
    void attach_fillsPeftsGroupedQueryDims_andRefusesAWrongTokenDim() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(false), 1L);
            PrefixTuningConfig c = (PrefixTuningConfig) peft.adapter("default").config();
            assertEquals(TOKEN_DIM, c.tokenDim(), "token_dim = kv heads x head dim");
            assertEquals(2, c.numAttentionHeads(), "num_attention_heads = kv heads");
            assertEquals(2, c.numLayers());
            assertEquals(TOKEN_DIM, c.encoderHiddenSize(), "encoder_hidden_size defaults to token_dim");
            assertEquals(4L * WIDTH, peft.trainableParameterCount());
            PrefixTuningConfig wrong = new PrefixTuningConfig(4, 32, null, null, null, null, false, null, null,
                    "CAUSAL_LM", null, null, false, null, null);
            String msg = assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("b", wrong, 1L))
                    .getMessage();
            assertTrue(msg.contains("token_dim = 32") && msg.contains("key/value width"), msg);
            String bad = assertThrows(IllegalArgumentException.class, () -> PrefixTuningConfig.builder()
                    .setNumVirtualTokens(0).build()).getMessage();
            assertTrue(bad.contains("num_virtual_tokens = 0"), bad);
        }
    }

    @Test
    void prefix_changesTheLogits_disabledIsTheBase() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            float[] base = logits(model, TinyModels.ids(m));
            peft.addAdapter("default", config(false), 1L);
            float[] random = logits(peft.asCausalLM(), TinyModels.ids(m));
            assertTrue(maxDiff(base, random) > 1e-2, "a random prefix changes the logits");
            try (var off = peft.disableAdapters()) {
                assertEquals(0f, maxDiff(base, logits(peft.asCausalLM(), TinyModels.ids(m))), "disabled = base");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void train_lossFalls_baseUnchanged_savesPeftShape_loadsWithSameLogits(boolean projection) throws Exception {
        Path dir = tmp.resolve("prefix-" + projection);
        float[] want;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            Map<String, float[]> before = TinyModels.baseWeights(model);
            peft.addAdapter("default", config(projection), 3L);
            long params = projection
                    // table 4 x 16 + Linear(16, 16) + Linear(16, 64), with biases
                    ? 4 * TOKEN_DIM + (TOKEN_DIM * TOKEN_DIM + TOKEN_DIM) + (TOKEN_DIM * WIDTH + WIDTH)
                    : 4L * WIDTH;
            assertEquals(params, peft.trainableParameterCount());
            TrainingResult r;
            double evalBefore;
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(20).optBatchSize(4)
                    .optLearningRate(projection ? 1e-2 : 0.2).build())) {
                evalBefore = t.evaluate(PromptTuningTest.data()).loss();
                r = t.train(PromptTuningTest.data(), PromptTuningTest.data());
            }
            System.err.printf("prefix tuning (projection %s) tiny model: eval loss %.4f -> %.4f%n", projection,
                    evalBefore, r.evalLoss());
            assertTrue(r.evalLoss() < 0.5 * evalBefore, "loss falls: " + evalBefore + " -> " + r.evalLoss());
            before.forEach((k, v) -> assertArrayEquals(v, TinyModels.baseWeights(model).get(k), k + " changed"));
            want = logits(peft.asCausalLM(), TinyModels.ids(m));
            peft.save(dir);
        }
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(List.of("prompt_embeddings"), List.copyOf(r.names()));
            assertArrayEquals(new long[] {4, WIDTH}, r.shape("prompt_embeddings"));
        }
        String json = Files.readString(dir.resolve("adapter_config.json"));
        assertTrue(json.contains("\"peft_type\" : \"PREFIX_TUNING\"") && json.contains("\"inference_mode\" : true")
                && json.contains("\"token_dim\" : 16") && json.contains("\"num_attention_heads\" : 2")
                && json.contains("\"prefix_projection\" : " + projection), json);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.loadAdapter(dir, "default");
            assertEquals(4L * WIDTH, peft.trainableParameterCount(), "a loaded prefix is its table");
            float d = maxDiff(want, logits(peft.asCausalLM(), TinyModels.ids(m)));
            assertTrue(d < 1e-5, "loaded logits equal the trained ones: " + d);
        }
    }

    @Test
    void generate_prefixCachedOnce_equalsNoCache_leftPaddedRowEqualsAlone_trainedContinuation() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(false), 2L);
            CausalLM lm = peft.asCausalLM();
            TinyModels.assertCachedEqualsUncached_andLeftPaddedRowEqualsAlone(lm);
            GenerationConfig g = TinyModels.GREEDY8;

            int[] before = new Generator(lm).generateIds(new int[][] {{1, 12}}, g, TokenListener.NONE).tokens().get(0);
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(30).optBatchSize(4)
                    .optLearningRate(0.2).build())) {
                t.train(PromptTuningTest.data(), null);
            }
            int[] after = new Generator(lm).generateIds(new int[][] {{1, 12}}, GenerationConfig.builder().optMaxNewTokens(6).optEosTokenIds(List.of(0)).build(),
                    TokenListener.NONE).tokens().get(0);
            System.err.println("prefix generation: before " + Arrays.toString(before) + ", after "
                    + Arrays.toString(after));
            assertArrayEquals(new int[] {20, 20, 20, 20, 20, 20}, after, "the trained continuation");
        }
    }
}
