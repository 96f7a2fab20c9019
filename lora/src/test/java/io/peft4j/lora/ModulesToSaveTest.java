package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdaptersDisabled;
import io.peft4j.core.adapter.MergedModelWriter;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code modules_to_save}: trainable full copies of lm_head (tied to the embedding in the tiny model), the embedding
 * and the norms, saved under PEFT's keys; the base stays bit-identical and comes back when adapters are disabled,
 * switched or deleted.
 */
class ModulesToSaveTest {
    static final LoraConfig MTS = LoraTrainingTest.LORA.toBuilder()
            .optTargetModules(TargetModules.of("q_proj", "v_proj"))
            .optModulesToSave(List.of("lm_head", "embed_tokens", "norm")).build();
    @TempDir
    Path tmp;

    /** Every base array (embedding, norms, projection weights) copied out. */
    static Map<String, float[]> baseSnapshot(CausalLM model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.otherWeights().forEach((k, v) -> out.put(k, v.toFloatArray()));
        try (NDManager m = model.manager().newSubManager()) {
            model.linearLayers().forEach((k, l) -> out.put(k, unwrap(l).denseWeight(m).toFloatArray()));
        }
        return out;
    }

    private static LinearLayer unwrap(LinearLayer l) {
        if (l instanceof LoraLinear lora) {
            return lora.base();
        }
        return l instanceof io.peft4j.lora.internal.ModulesToSaveLinear m ? m.base() : l;
    }

    private static void train(PeftModel peft, int steps) throws Exception {
        try (Trainer t = new Trainer(peft, LoraTrainingTest.cfg().optMaxSteps(steps).optLearningRate(2e-2).build())) {
            t.train(LoraTrainingTest.data(32, 1), null);
        }
    }

    @Test
    void train_changesOnlyTheCopies_baseBitIdentical_disableRestoresBase() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            NDArray ids = TinyModels.ids(m);
            float[] baseLogits = TinyModels.logits(peft, ids);
            Map<String, float[]> before = baseSnapshot(model);
            peft.addAdapter("default", MTS, 3L);
            assertEquals(0, TinyModels.maxDiff(baseLogits, TinyModels.logits(peft, ids)), "copies start equal");
            Map<String, NDArray> sd = peft.adapter("default").stateDict();
            assertTrue(sd.containsKey("lm_head.weight") && sd.containsKey("model.embed_tokens.weight")
                    && sd.containsKey("model.norm.weight") && sd.containsKey("model.layers.1.input_layernorm.weight"),
                    sd.keySet().toString());
            train(peft, 6);
            for (String k : List.of("lm_head", "model.embed_tokens", "model.norm", "model.layers.0.input_layernorm")) {
                float[] copy = sd.get(k + ".weight").toFloatArray();
                float[] base = before.get(k.equals("lm_head") ? "model.embed_tokens.weight" : k + ".weight");
                assertTrue(TinyModels.maxDiff(copy, base) > 1e-3, k + " copy was trained");
            }
            Map<String, float[]> after = baseSnapshot(model);
            for (String k : before.keySet()) {
                assertArrayEquals(before.get(k), after.get(k), k + " base changed");
            }
            float[] adapted = TinyModels.logits(peft, ids);
            assertTrue(TinyModels.maxDiff(baseLogits, adapted) > 1e-3);
            try (AdaptersDisabled off = peft.disableAdapters()) {
                assertArrayEquals(baseLogits, TinyModels.logits(peft, ids));
            }
            assertArrayEquals(adapted, TinyModels.logits(peft, ids));
        }
    }

    @Test
    void saveLoad_roundTrip_peftKeys_deleteRestoresBaseModules() throws Exception {
        Path dir = tmp.resolve("mts");
        float[] trained;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", MTS, 3L);
            train(peft, 3);
            trained = TinyModels.logits(peft, TinyModels.ids(m));
            peft.save(dir);
        }
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            List<String> names = List.copyOf(r.names());
            for (String k : List.of("base_model.model.lm_head.weight", "base_model.model.model.embed_tokens.weight",
                    "base_model.model.model.norm.weight", "base_model.model.model.layers.0.input_layernorm.weight",
                    "base_model.model.model.layers.1.post_attention_layernorm.weight")) {
                assertTrue(names.contains(k), k + " in " + names);
            }
            assertArrayEquals(new long[] {TinyModels.VOCAB, 32}, r.shape("base_model.model.lm_head.weight"));
        }
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            LinearLayer head = model.linearLayers().get("lm_head");
            float[] base = TinyModels.logits(peft, TinyModels.ids(m));
            peft.loadAdapter(dir, "default");
            assertEquals(0, TinyModels.maxDiff(trained, TinyModels.logits(peft, TinyModels.ids(m))), 1e-6);
            peft.deleteAdapter("default");
            assertSame(head, model.linearLayers().get("lm_head"));
            assertNull(model.weightOverride("model.embed_tokens.weight"));
            assertArrayEquals(base, TinyModels.logits(peft, TinyModels.ids(m)));
        }
    }

    @Test
    void switchAdapters_eachUsesItsOwnCopy_twoActiveRefused() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            NDArray ids = TinyModels.ids(m);
            peft.addAdapter("a", MTS, 3L);
            train(peft, 3);
            float[] a = TinyModels.logits(peft, ids);
            peft.addAdapter("b", MTS, 4L);    // now only b is active: untrained copies = base logits
            float[] b = TinyModels.logits(peft, ids);
            assertTrue(TinyModels.maxDiff(a, b) > 1e-3);
            peft.setActiveAdapters("a");
            assertArrayEquals(a, TinyModels.logits(peft, ids));
            peft.setActiveAdapters("a", "b");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> TinyModels.logits(peft, ids));
            assertTrue(e.getMessage().contains("only one adapter"), e.getMessage());
            peft.deleteAdapter("a");
            peft.setActiveAdapters("b");
            assertArrayEquals(b, TinyModels.logits(peft, ids));
        }
    }

    /** Untied embeddings: merged lm_head and embedding are separate arrays, so the merge must keep both copies. */
    @Test
    void mergeAndUnload_untied_keepsTrainedCopies() throws Exception {
        ModelConfig c = TinyModels.config(32);
        ModelConfig untied = new ModelConfig(c.architecture(), c.modelType(), c.vocabSize(), c.hiddenSize(),
                c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(),
                c.ropeTheta(), c.ropeScaling(), c.maxPositions(), false, false, -1, -1);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(untied, 42, m);
             PeftModel peft = PeftModel.wrap(model)) {
            NDArray ids = TinyModels.ids(m);
            peft.addAdapter("default", MTS, 3L);
            train(peft, 3);
            float[] adapted = TinyModels.logits(peft, ids);
            CausalLM merged = peft.mergeAndUnload();
            assertNull(merged.weightOverride("model.embed_tokens.weight"));
            assertEquals(0, TinyModels.maxDiff(adapted, TinyModels.logits(PeftModel.wrap(merged), ids)), 1e-4);
        }
    }

    /** Tied: the lm_head copy unties it in memory; a tied HF folder would drop it, so the writer refuses. */
    @Test
    void mergeAndUnload_tiedLmHeadCopy_sameLogits_mergedWriterRefuses() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            NDArray ids = TinyModels.ids(m);
            peft.addAdapter("default", MTS, 3L);
            train(peft, 3);
            float[] adapted = TinyModels.logits(peft, ids);
            LlamaModel merged = (LlamaModel) peft.mergeAndUnload();
            assertEquals(0, TinyModels.maxDiff(adapted, TinyModels.logits(PeftModel.wrap(merged), ids)), 1e-4);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> MergedModelWriter.write(merged, null, tmp.resolve("merged"), "fp"));
            assertTrue(e.getMessage().contains("lm_head"), e.getMessage());
        }
    }

    @Test
    void attach_unsupportedOrConflicting_refusedNamingTheModule() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            Map<List<String>, String> cases = Map.of(
                    List.of("self_attn"), "model.layers.0.self_attn",
                    List.of("rotary_emb"), "'rotary_emb' matches no module",
                    List.of("q_proj"), "the same adapter targets with LoRA");
            for (Map.Entry<List<String>, String> c : cases.entrySet()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> peft.addAdapter("x", MTS.toBuilder().optModulesToSave(c.getKey()).build(), 1L));
                assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
            }
            assertTrue(peft.adapterNames().isEmpty());
            assertTrue(model.linearLayers().values().stream().noneMatch(l -> l instanceof LoraLinear));
        }
    }
}
