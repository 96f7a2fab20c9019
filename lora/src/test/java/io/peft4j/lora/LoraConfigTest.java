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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraConfigTest {

    @Test
    void defaults_matchPeft() throws Exception {
        LoraConfig c = (LoraConfig) AdapterConfig.fromJson("{\"peft_type\":\"LORA\"}", "test");
        assertEquals(8, c.r());
        assertEquals(8.0, c.loraAlpha());
        assertEquals(0.0, c.loraDropout());
        assertEquals(LoraBias.NONE, c.bias());
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
    void bias_eachValue_roundTripsAsPeftStringWithUnknownFields() throws Exception {
        for (LoraBias bias : LoraBias.values()) {
            String json = "{\"peft_type\":\"LORA\",\"bias\":\"" + bias.json() + "\",\"r\":4,"
                    + "\"future_field\":{\"k\":[1,2]},\"nullable_future\":null}";
            LoraConfig c = (LoraConfig) AdapterConfig.fromJson(json, "cfg.json");
            assertEquals(bias, c.bias());
            assertEquals(bias, LoraBias.fromJson(bias.json()));
            JsonNode out = Json.MAPPER.readTree(c.toJson());
            assertEquals(bias.json(), out.get("bias").asText());
            assertEquals(Json.MAPPER.readTree("{\"k\":[1,2]}"), out.get("future_field"));
            assertTrue(out.has("nullable_future") && out.get("nullable_future").isNull(), out.toString());
            LoraConfig again = (LoraConfig) AdapterConfig.fromJson(c.toJson(), "again");
            assertEquals(c, again, bias + ": a second round trip gives an equal config");
        }
        assertEquals(List.of("none", "all", "lora_only"),
                java.util.Arrays.stream(LoraBias.values()).map(LoraBias::json).toList());
        assertEquals(LoraBias.NONE, LoraConfig.builder().build().bias());
        assertEquals("lora_only", Json.MAPPER.readTree(LoraConfig.builder().optBias(LoraBias.LORA_ONLY).build()
                .toJson()).get("bias").asText());
        PeftException e = assertThrows(PeftException.class,
                () -> AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"bias\":\"LORA_ONLY\"}", "cfg.json"));
        assertTrue(e.getMessage().contains("bias = LORA_ONLY") && e.getMessage().contains("lora_only"),
                "PEFT's lower-case strings only: " + e.getMessage());
    }

    @Test
    void collections_areImmutableCopies_inInputOrder() throws Exception {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("z_proj", 2);
        ranks.put("q_proj", 4);
        ranks.put("self_attn.q_proj", 6);
        List<String> save = new ArrayList<>(List.of("lm_head"));
        LoraConfig c = LoraConfig.builder().optRankPattern(ranks).optModulesToSave(save).build();
        ranks.put("v_proj", 99);
        save.add("embed_tokens");
        assertEquals(List.of("z_proj", "q_proj", "self_attn.q_proj"), List.copyOf(c.rankPattern().keySet()), "copied, ordered");
        assertEquals(List.of("lm_head"), c.modulesToSave());
        assertEquals(4, c.rankFor("model.layers.0.self_attn.q_proj"), "both keys match: the first in order wins");
        assertEquals(8, c.rankFor("model.layers.0.self_attn.v_proj"));
        assertThrows(UnsupportedOperationException.class, () -> c.rankPattern().put("k", 1));
        assertThrows(UnsupportedOperationException.class, () -> c.alphaPattern().put("k", 1.0));
        assertThrows(UnsupportedOperationException.class, () -> c.modulesToSave().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> c.extraFields().put("x", 1));
        LoraConfig parsed = (LoraConfig) AdapterConfig.fromJson("{\"peft_type\":\"LORA\",\"extra\":1}", "t");
        assertThrows(UnsupportedOperationException.class, () -> parsed.extraFields().put("x", 1));
        assertThrows(UnsupportedOperationException.class, () -> parsed.extraFields().remove("extra"));
        Map<String, Object> extra = new HashMap<>();
        extra.put("a", null);
        LoraConfig withNull = new LoraConfig(8, 8, 0, null, null, null, null, null, null, null, false, false,
                null, false, null, null, null, null, extra);
        extra.put("b", 2);
        assertEquals(1, withNull.extraFields().size());
        assertNull(withNull.extraFields().get("a"));
        LoraConfig derived = parsed.toBuilder().optR(16).build();
        assertEquals(1, derived.extraFields().get("extra"), "toBuilder keeps unknown fields");
        assertEquals(8, parsed.r(), "deriving leaves the original unchanged");
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
