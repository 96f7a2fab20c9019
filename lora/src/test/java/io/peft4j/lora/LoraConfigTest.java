package io.peft4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraConfigTest {

    @Test
    void defaults_matchPeft() throws Exception {
        LoraConfig c = (LoraConfig) AdapterConfig.fromJson("{\"peft_type\":\"LORA\"}", "test");
        assertEquals(8, c.r());
        assertEquals(8.0, c.loraAlpha());
        assertEquals(0.0, c.loraDropout());
        assertEquals("none", c.bias());
        assertEquals(InitLoraWeights.DEFAULT, c.initLoraWeights());
        assertEquals(1.0, c.scaleFor("q_proj"));
        JsonNode out = Json.MAPPER.readTree(c.toJson());
        assertEquals(8, out.get("r").asInt());
        assertTrue(out.get("init_lora_weights").asBoolean());
        assertEquals("LORA", out.get("peft_type").asText());
    }

    @Test
    void targetModulesParse_commandLineForms() {
        assertEquals(TargetModules.ALL_LINEAR, TargetModules.parse("all-linear"));
        assertEquals(TargetModules.regex(".*\\.(q|v)_proj"), TargetModules.parse("re:.*\\.(q|v)_proj"));
        assertEquals(TargetModules.of("q_proj", "v_proj"), TargetModules.parse(" q_proj, ,v_proj "));
        assertThrows(IllegalArgumentException.class, () -> TargetModules.parse("re:(unclosed"));
    }

    @Test
    void serviceLoader_findsLoraByPeftType() {
        assertInstanceOf(LoraMethod.class, AdapterMethod.forPeftType("LORA"));
        assertEquals(LoraConfig.class, AdapterMethod.forPeftType("LORA").configType());
    }

    @Test
    void peftGpt2Adapter_parses_andRoundTripsEveryField() throws Exception {
        Path file = TestResources.shared("adapters/gpt2-tigrinya-lora/adapter_config.json");
        LoraConfig c = (LoraConfig) AdapterConfig.read(file);
        assertTrue(c.fanInFanOut());
        assertEquals(List.of("c_attn", "c_proj"), c.targetModules().names());
        assertEquals(8, c.r());
        assertEquals(32.0, c.loraAlpha());
        assertEquals(0.05, c.loraDropout());
        assertEquals("CAUSAL_LM", c.taskType());
        assertEquals("megatron.core", c.extraFields().get("megatron_core"));
        assertEquals(16, c.extraFields().get("qalora_group_size"));
        JsonNode original = Json.MAPPER.readTree(Files.readString(file));
        JsonNode written = Json.MAPPER.readTree(c.toJson());
        assertEquals(original, written, "every field, known or not, written back with the same value");
    }

    @Test
    void targetModules_acceptsRegexAndAllLinear() throws Exception {
        LoraConfig regex = (LoraConfig) AdapterConfig.fromJson(
                "{\"peft_type\":\"LORA\",\"target_modules\":\".*\\\\.(q|v)_proj\"}", "t");
        assertTrue(regex.targetModules().matches("model.layers.3.self_attn.q_proj"));
        assertTrue(!regex.targetModules().matches("model.layers.3.self_attn.k_proj"));
        LoraConfig all = (LoraConfig) AdapterConfig.fromJson(
                "{\"peft_type\":\"LORA\",\"target_modules\":\"all-linear\",\"init_lora_weights\":\"gaussian\"}", "t");
        assertTrue(all.targetModules().isAllLinear());
        assertEquals(InitLoraWeights.GAUSSIAN, all.initLoraWeights());
        assertEquals("all-linear", Json.MAPPER.readTree(all.toJson()).get("target_modules").asText());
        assertEquals("gaussian", Json.MAPPER.readTree(all.toJson()).get("init_lora_weights").asText());
    }

    @Test
    void patterns_overrideRankAndAlphaBySuffix() {
        LoraConfig c = LoraConfig.builder().optR(8).optLoraAlpha(16).optRankPattern(Map.of("v_proj", 4))
                .optAlphaPattern(Map.of("layers\\.1\\.self_attn\\.q_proj", 2.0)).build();
        assertEquals(4, c.rankFor("model.layers.0.self_attn.v_proj"));
        assertEquals(8, c.rankFor("model.layers.0.self_attn.q_proj"));
        assertEquals(2.0, c.alphaFor("model.layers.1.self_attn.q_proj"));
        assertEquals(16.0, c.alphaFor("model.layers.0.self_attn.q_proj"));
        assertEquals(4.0, c.scaleFor("model.layers.0.self_attn.v_proj"));
    }

    @Test
    void badValues_nameTheField() {
        PeftException e = assertThrows(PeftException.class,
                () -> AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"r\":-2}", "cfg.json"));
        assertTrue(e.getMessage().contains("cfg.json") && e.getMessage().contains("r = -2"), e.getMessage());
        e = assertThrows(PeftException.class,
                () -> AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"init_lora_weights\":\"pissa\"}", "cfg.json"));
        assertTrue(e.getMessage().contains("pissa"), e.getMessage());
        e = assertThrows(PeftException.class,
                () -> AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"bias\":\"some\"}", "cfg.json"));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        e = assertThrows(PeftException.class, () -> AdapterConfig.fromJson("{\"peft_type\":\"IA3\"}", "cfg.json"));
        assertTrue(e.getMessage().contains("unsupported peft_type 'IA3'") && e.getMessage().contains("LORA"),
                e.getMessage());
    }

    @Test
    void rankZero_inJsonOrBuilder_isRefused_whileAbsentRankIsPeftDefault() throws Exception {
        PeftException e = assertThrows(PeftException.class,
                () -> AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"r\":0}", "cfg.json"));
        assertTrue(e.getMessage().contains("cfg.json") && e.getMessage().contains("r = 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.builder().optR(0).build());
        assertEquals(8, ((LoraConfig) AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"r\":null}", "c")).r());
        assertEquals(16, ((LoraConfig) AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"r\":16}", "c")).r());
        assertEquals(8, LoraConfig.builder().build().r());
    }
}
