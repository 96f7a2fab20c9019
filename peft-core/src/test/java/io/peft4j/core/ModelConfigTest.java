package io.peft4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {
    private static final String SMOLLM2 = "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\","
            + "\"vocab_size\":49152,\"hidden_size\":576,\"intermediate_size\":1536,\"num_hidden_layers\":30,"
            + "\"num_attention_heads\":9,\"num_key_value_heads\":3,\"rms_norm_eps\":1e-5,\"rope_theta\":100000,"
            + "\"max_position_embeddings\":8192,\"tie_word_embeddings\":true,\"bos_token_id\":1,\"eos_token_id\":2}";

    @Test
    void fromHfConfig_smolLm2_parameterCountMatchesPublishedSize() throws Exception {
        JsonNode json = Json.MAPPER.readTree(SMOLLM2);
        ModelConfig c = ModelConfig.fromHfConfig(json, Path.of("config.json"));
        assertEquals(64, c.headDim());
        assertEquals(3, c.numKvHeads());
        // SmolLM2-135M: 134,515,008 parameters (tied embeddings)
        assertEquals(134_515_008L, c.parameterCount());
        assertTrue(c.tieWordEmbeddings());
    }

    @Test
    void fromHfConfig_missingField_namesFileAndField() throws Exception {
        JsonNode json = Json.MAPPER.readTree("{\"hidden_size\":8,\"num_attention_heads\":2}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> ModelConfig.fromHfConfig(json, Path.of("/x/config.json")));
        assertTrue(e.getMessage().contains("/x/config.json") && e.getMessage().contains("vocab_size"), e.getMessage());
    }

    @Test
    void fromHfConfig_transformers5RopeParameters_thetaAndScalingRead() throws Exception {
        JsonNode plain = Json.MAPPER.readTree(SMOLLM2.replace("\"rope_theta\":100000,",
                "\"rope_parameters\":{\"rope_theta\":100000.0,\"rope_type\":\"default\"},"));
        ModelConfig c = ModelConfig.fromHfConfig(plain, Path.of("config.json"));
        assertEquals(100000.0, c.ropeTheta());
        assertEquals("none", c.ropeScaling().type());
        JsonNode llama3 = Json.MAPPER.readTree(SMOLLM2.replace("\"rope_theta\":100000,",
                "\"rope_parameters\":{\"rope_theta\":500000.0,\"rope_type\":\"llama3\",\"factor\":8.0,"
                        + "\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8192},"));
        ModelConfig l = ModelConfig.fromHfConfig(llama3, Path.of("config.json"));
        assertEquals(500000.0, l.ropeTheta());
        assertEquals("llama3", l.ropeScaling().type());
        assertEquals(8.0, l.ropeScaling().factor());
    }
}
