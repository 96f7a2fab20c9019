package io.peft4j.lora.internal;

import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TargetSelectorTest {
    static final List<String> PATHS = paths();

    static List<String> paths() {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            for (String n : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                p.add("model.layers." + i + "." + n);
            }
        }
        p.add("lm_head");
        return p;
    }

    static List<String> select(LoraConfig.Builder b) {
        return TargetSelector.select(b.build(), PATHS, "llama");
    }

    @Test
    void select_nullTargets_defaultsToQandV() {
        List<String> got = select(LoraConfig.builder());
        assertEquals(6, got.size());
        assertTrue(got.stream().allMatch(p -> p.endsWith("q_proj") || p.endsWith("v_proj")));
    }

    @Test
    void select_allLinear_neverTakesLmHead() {
        List<String> got = select(LoraConfig.builder().optTargetModules(TargetModules.ALL_LINEAR));
        assertEquals(21, got.size());
        assertTrue(!got.contains("lm_head"));
    }

    @Test
    void select_explicitLmHead_isAllowed() {
        assertEquals(List.of("lm_head"), select(LoraConfig.builder().optTargetModules(TargetModules.of("lm_head"))));
    }

    @Test
    void select_regex_fullMatchesPath() {
        List<String> got = select(LoraConfig.builder().optTargetModules(
                TargetModules.regex("model\\.layers\\.[01]\\.mlp\\.(up|down)_proj")));
        assertEquals(List.of("model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj",
                "model.layers.1.mlp.up_proj", "model.layers.1.mlp.down_proj"), got);
        assertThrows(IllegalArgumentException.class, () -> select(LoraConfig.builder()
                .optTargetModules(TargetModules.regex("up_proj"))), "a regex must match the whole path");
    }

    @Test
    void select_layersToTransform_withPattern() {
        List<String> got = select(LoraConfig.builder().optTargetModules(TargetModules.of("q_proj", "v_proj"))
                .optLayersToTransform(List.of(0, 2)).optLayersPattern(List.of("layers")));
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                "model.layers.2.self_attn.q_proj", "model.layers.2.self_attn.v_proj"), got);
        assertEquals(got, select(LoraConfig.builder().optTargetModules(TargetModules.of("q_proj", "v_proj"))
                .optLayersToTransform(List.of(0, 2))));
    }

    @Test
    void select_excludeModules_wins() {
        List<String> got = select(LoraConfig.builder().optTargetModules(TargetModules.ALL_LINEAR)
                .optExcludeModules(TargetModules.of("down_proj", "k_proj")));
        assertEquals(15, got.size());
        assertTrue(got.stream().noneMatch(p -> p.endsWith("down_proj") || p.endsWith("k_proj")));
    }

    @Test
    void select_nothingMatches_listsModuleNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> select(LoraConfig.builder().optTargetModules(TargetModules.of("c_attn"))));
        assertTrue(e.getMessage().contains("c_attn") && e.getMessage().contains("q_proj"), e.getMessage());
    }
}
