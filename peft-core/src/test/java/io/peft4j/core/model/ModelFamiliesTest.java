package io.peft4j.core.model;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.UnsupportedModelException;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.MemoryTensorSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFamiliesTest {

    private static ModelConfig config(String architecture, String modelType) {
        return new ModelConfig(architecture, modelType, 61, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);
    }

    @Test
    void of_llamaMistralQwen2_pickLlamaFamily() throws Exception {
        assertEquals("llama", ModelFamilies.of(config("LlamaForCausalLM", "llama")).name());
        assertEquals("llama", ModelFamilies.of(config("MistralForCausalLM", "mistral")).name());
        assertEquals("llama", ModelFamilies.of(config("Qwen2ForCausalLM", "qwen2")).name());
    }

    @Test
    void of_gemmaPhi3Gpt2_refusedWithOneLineListingFamilies() {
        for (String[] c : new String[][] {{"GemmaForCausalLM", "gemma"}, {"Phi3ForCausalLM", "phi3"},
            {"GPT2LMHeadModel", "gpt2"}}) {
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> ModelFamilies.of(config(c[0], c[1])));
            assertTrue(e.getMessage().contains("'" + c[1] + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("supported: llama (llama, mistral, qwen2)"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void load_familyModel_isLlamaAndLlamaLoaderRefusesGemma() throws Exception {
        try (NDManager m = Peft4j.newManager()) {
            ModelConfig llama = config("LlamaForCausalLM", "llama");
            MemoryTensorSource weights;
            try (LlamaModel random = LlamaModel.random(llama, 3, m)) {
                weights = MemoryTensorSource.of(random, m);
            }
            try (CausalLM model = ModelFamilies.load(llama, weights, DenseLinearFactory.INSTANCE, m)) {
                assertInstanceOf(LlamaModel.class, model);
            }
            assertThrows(CheckpointFormatException.class,
                    () -> LlamaModel.load(config("GemmaForCausalLM", "gemma"), weights, m));
        }
    }
}
