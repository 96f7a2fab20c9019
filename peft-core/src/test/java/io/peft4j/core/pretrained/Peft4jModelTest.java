package io.peft4j.core.pretrained;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The entry point without the quantization module on the class path (peft-core alone). */
class Peft4jModelTest {
    private static final ModelConfig TINY = new ModelConfig("LlamaForCausalLM", "llama", 8, 64, 128, 2, 4, 2, 16,
            1e-5, 10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);
    private static final GenerationConfig GREEDY = GenerationConfig.builder().optMaxNewTokens(6).build();

    @TempDir
    static Path tmp;
    private static Path folder;

    @BeforeAll
    static void writeTinyFolder() throws Exception {
        folder = Files.createDirectories(tmp.resolve("tiny"));
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(TINY, 11, m)) {
            Map<String, NDArray> arrays = new LinkedHashMap<>(model.otherWeights());
            model.linearLayers().forEach((p, l) -> {
                if (!"lm_head".equals(p)) {
                    arrays.put(p + ".weight", l.denseWeight(m));
                }
            });
            SafetensorsWriter.writeArrays(folder.resolve("model.safetensors"), arrays, Map.of("format", "pt"));
        }
        Json.MAPPER.writeValue(folder.resolve("config.json").toFile(), TINY.toHfConfig());
        Files.writeString(folder.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"model\":{\"type\":\"WordLevel\","
                + "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7},"
                + "\"unk_token\":\"<unk>\"},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}");
    }

    @Test
    void build_folder_generatesAsTheGeneratorOverTheSameModel() throws Exception {
        try (Peft4jModel model = Peft4jModel.builder().setPath(folder).build()) {
            assertEquals(2, model.config().numLayers());
            String viaEntryPoint = model.generate("a b c", GREEDY);
            assertEquals(new Generator(model.base(), model.tokenizer()).generate("a b c", GREEDY), viaEntryPoint);
            assertEquals(6, viaEntryPoint.strip().split("\\s+").length);
        }
    }

    @Test
    void peftModel_isACausalLM_withTheSameLogitsAsItsView() throws Exception {
        try (Peft4jModel model = Peft4jModel.builder().setPath(folder).build(); NDScope scope = new NDScope()) {
            CausalLM asModel = model.peft();
            NDArray ids = model.base().manager().create(new long[] {1, 2, 3, 4}).reshape(1, 4);
            float[] direct = asModel.forward(ids, null, null).toFloatArray();
            float[] view = model.asCausalLM().forward(ids, null, null).toFloatArray();
            float[] bare = model.base().forward(ids, null, null).toFloatArray();
            assertArrayEquals(bare, direct, 0f);
            assertArrayEquals(bare, view, 0f);
            assertEquals(TINY.vocabSize() * 4, direct.length);
            assertEquals(model.config(), asModel.config());
            assertThrows(IllegalStateException.class, () -> asModel.replaceLinear("lm_head", null));
        }
    }

    @Test
    void evaluate_texts_givesFinitePerplexityOverEveryPredictedToken() throws Exception {
        try (Peft4jModel model = Peft4jModel.builder().setPath(folder).build()) {
            var r = model.evaluate(List.of("a b c d e f g", "g f e d"));
            assertEquals(6 + 3, r.tokens());
            assertTrue(Double.isFinite(r.loss()) && r.loss() > 0, "loss " + r.loss());
            assertEquals(Math.exp(r.loss()), r.perplexity(), 1e-9 * r.perplexity());
        }
    }

    @Test
    void close_freesTheModelsNativeMemory() throws Exception {
        Peft4jModel model = Peft4jModel.builder().setPath(folder).build();
        NDManager manager = model.base().manager();
        assertTrue(manager.isOpen());
        model.close();
        assertTrue(!manager.isOpen(), "the model's manager is closed with the model");
    }

    @Test
    void setCheckpoint_givenCheckpoint_staysOpenAfterClose() throws Exception {
        try (Checkpoint ckpt = Peft4jModel.openCheckpoint(folder)) {
            try (Peft4jModel model = Peft4jModel.builder().setCheckpoint(ckpt)
                    .optLinearLayerFactory(DenseLinearFactory.INSTANCE).build()) {
                assertEquals(PeftModel.class, model.peft().getClass());
            }
            assertEquals(TINY.numLayers(), ckpt.config().numLayers());
            assertEquals(8, ckpt.tensors().shape("model.embed_tokens.weight")[0]);
        }
    }

    @Test
    void build_badSetup_isRefusedNamingWhatIsWrong() {
        var none = assertThrows(IllegalArgumentException.class, () -> Peft4jModel.builder().build());
        assertTrue(none.getMessage().contains("setPath"), none.getMessage());
        var quant = assertThrows(IllegalArgumentException.class,
                () -> Peft4jModel.builder().setPath(folder).optQuantization("nf4").build());
        assertTrue(quant.getMessage().contains("io.peft4j:quantization"), quant.getMessage());
        var both = assertThrows(IllegalArgumentException.class, () -> Peft4jModel.builder().setPath(folder)
                .optQuantization("int8").optLinearLayerFactory(DenseLinearFactory.INSTANCE).build());
        assertTrue(both.getMessage().contains("exclusive"), both.getMessage());
        assertThrows(NoSuchFileException.class,
                () -> Peft4jModel.builder().setPath(tmp.resolve("missing")).build());
    }
}
