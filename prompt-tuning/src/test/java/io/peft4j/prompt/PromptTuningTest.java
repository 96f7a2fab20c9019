package io.peft4j.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.prompt.internal.InitTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.peft4j.prompt.TinyModels.HIDDEN;
import static io.peft4j.prompt.TinyModels.logits;
import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTuningTest {
    @TempDir
    Path tmp;

    static PromptTuningConfig config(int p) {
        return PromptTuningConfig.builder().setNumVirtualTokens(p).build();
    }

    static List<Example> data() {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int[] ids = {1, 10 + i, 20, 20, 20, 20, 20, 20};    // fixed continuation the prompt must learn
            int[] labels = ids.clone();
            labels[0] = Example.IGNORE;
            labels[1] = Example.IGNORE;
            out.add(new Example(ids, labels));
        }
        return out;
    }

    @Test
    void methodIsFoundThroughServiceLoader() {
        assertEquals(PromptTuningMethod.class, AdapterMethod.forPeftType("PROMPT_TUNING").getClass());
    }

    @Test
    void forward_equalsBaseOverPrependedEmbeddings_withVirtualPositionsStripped() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model); NDScope scope = new NDScope()) {
            peft.addAdapter("default", config(5), 3L);
            NDArray ids = TinyModels.ids(m);
            NDArray table = peft.adapter("default").stateDict().get("prompt_embeddings");
            assertArrayEquals(new long[] {5, HIDDEN}, table.getShape().getShape());
            NDArray input = table.expandDims(0).broadcast(2, 5, HIDDEN).concat(model.embed(ids), 1);
            float[] want = model.forwardEmbeddings(input, null, null).get(new NDIndex(":, 5:, :")).toFloatArray();
            NDArray got = peft.forward(ids, null, null);
            assertArrayEquals(new long[] {2, 6, TinyModels.VOCAB}, got.getShape().getShape());
            assertEquals(0f, maxDiff(want, got.toFloatArray()));
            float[] base;
            try (var off = peft.disableAdapters()) {
                base = logits(peft.asCausalLM(), ids);
            }
            assertTrue(maxDiff(base, got.toFloatArray()) > 1e-3, "the prompt changes the logits");
            assertEquals(0f, maxDiff(base, logits(model, ids)), "disabled = base model");
        }
    }

    @Test
    void init_textAndSampleVocab_copyEmbeddingRowsAsPeft() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            PromptTuningConfig text = new PromptTuningConfig(7, null, null, null, null, PromptTuningInit.TEXT,
                    "three tokens", "tiny", null, null, "CAUSAL_LM", null, null, false, null, List.of(4, 9, 13), null);
            peft.addAdapter("text", text, 1L);
            float[] got = peft.adapter("text").stateDict().get("prompt_embeddings").toFloatArray();
            assertArrayEquals(InitTokens.rows(model, new long[] {4, 9, 13, 4, 9, 13, 4}), got);
            PromptTuningConfig vocab = new PromptTuningConfig(6, null, null, null, null, PromptTuningInit.SAMPLE_VOCAB,
                    null, null, null, null, null, null, null, false, null, null, null);
            peft.addAdapter("sampled", vocab, 5L);
            float[] rows = peft.adapter("sampled").stateDict().get("prompt_embeddings").toFloatArray();
            assertArrayEquals(InitTokens.rows(model, InitTokens.sample(TinyModels.VOCAB, 6, 5L)), rows);
        }
    }

    @Test
    void attach_wrongTokenDimOrNoRoom_failsNamingTheField() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            PromptTuningConfig wrong = new PromptTuningConfig(4, 64, null, null, null, null, null, null, null, null,
                    null, null, null, false, null, null, null);
            String dim = assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("a", wrong, 1L)).getMessage();
            assertTrue(dim.contains("token_dim = 64"), dim);
            String room = assertThrows(IllegalArgumentException.class,
                    () -> peft.addAdapter("b", config(128), 1L)).getMessage();
            assertTrue(room.contains("num_virtual_tokens = 128"), room);
            assertTrue(peft.adapterNames().isEmpty());
        }
    }

    @Test
    void train_lossFalls_baseWeightsBitIdentical_onlyPromptChanges() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            Map<String, float[]> before = TinyModels.baseWeights(model);
            peft.addAdapter("default", config(4), 7L);
            float[] prompt0 = peft.adapter("default").stateDict().get("prompt_embeddings").toFloatArray();
            assertEquals(4L * HIDDEN, peft.trainableParameterCount());
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(20).optBatchSize(4).optLearningRate(0.3).build();
            TrainingResult r;
            double evalBefore;
            try (Trainer t = new Trainer(peft, cfg)) {
                evalBefore = t.evaluate(data()).loss();
                r = t.train(data(), data());
            }
            System.err.printf("prompt tuning tiny model: eval loss %.4f -> %.4f, first step %.4f last %.4f%n",
                    evalBefore, r.evalLoss(), r.losses().get(0), r.losses().get(r.losses().size() - 1));
            assertTrue(r.evalLoss() < 0.7 * evalBefore, "loss falls: " + evalBefore + " -> " + r.evalLoss());
            Map<String, float[]> after = TinyModels.baseWeights(model);
            assertEquals(before.keySet(), after.keySet());
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), "base weight " + k + " changed"));
            float[] prompt1 = peft.adapter("default").stateDict().get("prompt_embeddings").toFloatArray();
            assertTrue(maxDiff(prompt0, prompt1) > 1e-3, "the prompt was trained");
        }
    }

    @Test
    void saveLoad_roundTrip_sameLogits_peftLayout() throws Exception {
        Path dir = tmp.resolve("adapter");
        float[] want;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(3), 11L);
            want = logits(peft.asCausalLM(), TinyModels.ids(m));
            peft.save(dir);
        }
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(List.of("prompt_embeddings"), List.copyOf(r.names()));
            assertArrayEquals(new long[] {3, HIDDEN}, r.shape("prompt_embeddings"));
        }
        String json = Files.readString(dir.resolve("adapter_config.json"));
        assertTrue(json.contains("\"inference_mode\" : true") && json.contains("\"token_dim\" : " + HIDDEN)
                && json.contains("\"num_transformer_submodules\" : 1"), json);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.loadAdapter(dir, "default");
            assertEquals(0f, maxDiff(want, logits(peft.asCausalLM(), TinyModels.ids(m))));
        }
    }

    @Test
    void generate_kvCachePrefillOnce_equalsNoCache_andLeftPaddedRowEqualsAlone() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(4), 2L);
            List<int[]> cached = TinyModels.assertCachedEqualsUncached_andLeftPaddedRowEqualsAlone(peft.asCausalLM());
            var base = new Generator(model).generateIds(new int[][] {{1, 5, 9, 33, 2}}, TinyModels.GREEDY8,
                    TokenListener.NONE);
            System.err.println("tiny generation: base " + Arrays.toString(base.tokens().get(0)) + ", prompt "
                    + Arrays.toString(cached.get(0)));
        }
    }

    @Test
    void generate_afterTraining_tokensChangeTowardsTheData() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(4), 7L);
            GenerationConfig g = GenerationConfig.builder().optMaxNewTokens(6).optEosTokenIds(List.of(0)).build();
            int[] before = new Generator(peft.asCausalLM()).generateIds(new int[][] {{1, 12}}, g,
                    TokenListener.NONE).tokens().get(0);
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(30).optBatchSize(4)
                    .optLearningRate(0.3).build())) {
                t.train(data(), null);
            }
            int[] after = new Generator(peft.asCausalLM()).generateIds(new int[][] {{1, 12}}, g,
                    TokenListener.NONE).tokens().get(0);
            System.err.println("tiny generation: before " + Arrays.toString(before) + ", after "
                    + Arrays.toString(after));
            assertFalse(Arrays.equals(before, after), "generation changed");
            assertArrayEquals(new int[] {20, 20, 20, 20, 20, 20}, after, "the trained continuation");
        }
    }

    @Test
    void merge_isRefused() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(2), 1L);
            assertThrows(IllegalStateException.class, peft::merge);
            assertNotEquals(0, peft.trainableParameterCount());
        }
    }

}
