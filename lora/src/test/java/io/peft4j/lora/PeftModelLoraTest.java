package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdaptersDisabled;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.peft4j.lora.TinyModels.logits;
import static io.peft4j.lora.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeftModelLoraTest {
    static final LoraConfig RANDOM_QV = LoraConfig.builder().optR(8).optLoraAlpha(16)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    NDManager manager;
    LlamaModel model;
    PeftModel peft;
    NDArray ids;
    float[] base;

    @BeforeEach
    void setUp() {
        manager = Peft4j.newManager();
        model = TinyModels.model(manager);
        peft = PeftModel.wrap(model);
        ids = TinyModels.ids(manager);
        base = logits(peft, ids);
    }

    @AfterEach
    void tearDown() {
        peft.close();
        model.close();
        manager.close();
    }

    @Test
    void trainableParameters_printsPeftLine() {
        peft.addAdapter("default", LoraConfig.builder().build(), 1L);
        // per layer: q 8*32 + 32*8 = 512, v 8*32 + 16*8 = 384; two layers
        long trainable = 2 * (512 + 384);
        long all = model.config().parameterCount() + trainable;
        assertEquals(trainable, peft.trainableParameterCount());
        assertEquals(String.format(java.util.Locale.ROOT,
                "trainable params: %,d || all params: %,d || trainable%%: %.4f", trainable, all,
                100.0 * trainable / all), peft.trainableParameters());
        assertTrue(peft.trainableParameters().startsWith("trainable params: 1,792 || all params: "));
        assertEquals(8, peft.trainableArrays().size());
    }

    @Test
    void defaultInit_keepsBaseOutputs() {
        peft.addAdapter("default", LoraConfig.builder().build(), 1L);
        assertTrue(maxDiff(base, logits(peft, ids)) < 1e-6f);
    }

    @Test
    void disableAdapters_givesBaseOutputs_andRestores() {
        peft.addAdapter("default", RANDOM_QV, 1L);
        float[] adapted = logits(peft, ids);
        assertTrue(maxDiff(base, adapted) > 1e-3f, "random B changes the outputs");
        try (AdaptersDisabled off = peft.disableAdapters()) {
            assertArrayEquals(base, logits(peft, ids));
        }
        assertArrayEquals(adapted, logits(peft, ids));
        peft.merge();
        try (AdaptersDisabled off = peft.disableAdapters()) {
            assertArrayEquals(base, logits(peft, ids), "merged weights are bypassed, not subtracted");
        }
    }

    @Test
    void merge_sameLogits_unmergeExact_mergeAndUnloadLeavesDenseLayers() {
        peft.addAdapter("default", RANDOM_QV.toBuilder().optTargetModules(TargetModules.ALL_LINEAR).build(), 3L);
        float[] adapted = logits(peft, ids);
        peft.merge();
        float[] merged = logits(peft, ids);
        assertTrue(maxDiff(adapted, merged) < 1e-4f, "merged vs unmerged " + maxDiff(adapted, merged));
        peft.unmerge();
        assertArrayEquals(adapted, logits(peft, ids));
        CausalLM bare = peft.mergeAndUnload();
        assertSame(model, bare);
        for (Map.Entry<String, LinearLayer> e : bare.linearLayers().entrySet()) {
            assertInstanceOf(DenseLinear.class, e.getValue(), e.getKey());
        }
        assertTrue(peft.adapterNames().isEmpty());
        assertTrue(maxDiff(adapted, logits(peft, ids)) < 1e-4f);
    }

    @Test
    void deleteAdapter_restoresOriginalLayers() {
        Map<String, LinearLayer> before = Map.copyOf(model.linearLayers());
        peft.addAdapter("a", RANDOM_QV, 1L);
        peft.addAdapter("b", RANDOM_QV.toBuilder().optTargetModules(TargetModules.of("v_proj", "o_proj")).build(), 2L);
        assertInstanceOf(LoraLinear.class, model.linearLayers().get("model.layers.0.self_attn.o_proj"));
        peft.deleteAdapter("a");
        assertSame(before.get("model.layers.0.self_attn.q_proj"), model.linearLayers().get(
                "model.layers.0.self_attn.q_proj"));
        peft.deleteAdapter("b");
        before.forEach((k, v) -> assertSame(v, model.linearLayers().get(k), k));
        assertArrayEquals(base, logits(peft, ids));
        assertThrows(IllegalArgumentException.class, () -> peft.deleteAdapter("b"));
    }

    @Test
    void hotSwap_switchesActiveAdapter_andConcurrentForwardsSeeWholeStates() throws Exception {
        peft.addAdapter("a", RANDOM_QV, 1L);
        float[] a = logits(peft, ids);
        peft.addAdapter("b", RANDOM_QV, 2L);
        float[] b = logits(peft, ids);
        assertEquals(List.of("b"), peft.activeAdapters());
        assertTrue(maxDiff(a, b) > 1e-3f);
        peft.setActiveAdapters("a");
        assertArrayEquals(a, logits(peft, ids));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                results.add(pool.submit(() -> logits(peft, ids)));
                peft.setActiveAdapters(i % 2 == 0 ? "b" : "a");
            }
            for (Future<float[]> f : results) {
                float[] got = f.get();
                assertTrue(maxDiff(got, a) == 0f || maxDiff(got, b) == 0f, "a forward saw a torn swap");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void addAdapter_duplicateOrBadName_rejected() {
        peft.addAdapter("default", RANDOM_QV, 1L);
        assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("default", RANDOM_QV, 1L));
        assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("a/b", RANDOM_QV, 1L));
        assertThrows(IllegalArgumentException.class, () -> peft.setActiveAdapters("nope"));
    }

    @Test
    void sameSeed_sameInitialWeights() {
        peft.addAdapter("x", RANDOM_QV, 5L);
        float[] one = logits(peft, ids);
        peft.deleteAdapter("x");
        peft.addAdapter("x", RANDOM_QV, 5L);
        assertArrayEquals(one, logits(peft, ids));
    }

    @Test
    void biasLoraOnly_trainsAndSavesWrappedBiases_rankPatternShapesLayers() throws Exception {
        try (NDManager m = Peft4j.newManager();
             LlamaModel biased = LlamaModel.random(new io.peft4j.core.ModelConfig("LlamaForCausalLM", "qwen2",
                     TinyModels.VOCAB, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, io.peft4j.core.ModelConfig.RopeScaling.NONE,
                     128, true, true, -1, -1), 3, m);
             PeftModel p = PeftModel.wrap(biased)) {
            p.addAdapter("default", LoraConfig.builder().optBias(LoraBias.LORA_ONLY)
                    .optRankPattern(Map.of("v_proj", 2)).build(), 1L);
            Map<String, NDArray> sd = p.adapter("default").stateDict();
            assertTrue(sd.containsKey("model.layers.0.self_attn.q_proj.base_layer.bias"), sd.keySet().toString());
            assertTrue(!sd.containsKey("model.layers.0.self_attn.k_proj.base_layer.bias"));
            assertEquals(2, sd.get("model.layers.1.self_attn.v_proj.lora_A.weight").getShape().get(0));
            assertEquals(8, sd.get("model.layers.1.self_attn.q_proj.lora_A.weight").getShape().get(0));
            assertEquals(2 * (2 + 2) + 2 * 2, p.trainableArrays().size(), "A, B per q/v plus the q/v biases");
            assertTrue(sd.get("model.layers.0.self_attn.q_proj.base_layer.bias").hasGradient());
            p.deleteAdapter("default");
            assertTrue(!biased.linearLayers().get("model.layers.0.self_attn.q_proj").bias().hasGradient());
        }
    }
}
