package io.peft4j.prompt;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.prompt.internal.InitTokens;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTuningConfigTest {
    /** What PEFT 0.21.2's {@code PromptTuningConfig(...).to_dict()} gives after attaching to SmolLM2 (plus a field). */
    static final String PEFT_JSON = """
            {"auto_mapping": null, "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct",
             "inference_mode": true, "modules_to_save": null, "num_attention_heads": 9, "num_layers": 30,
             "num_transformer_submodules": 1, "num_virtual_tokens": 8, "peft_type": "PROMPT_TUNING",
             "peft_version": "0.21.2", "prompt_tuning_init": "TEXT", "prompt_tuning_init_text": "Answer briefly:",
             "revision": null, "task_type": "CAUSAL_LM", "token_dim": 576, "tokenizer_kwargs": null,
             "tokenizer_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct", "future_field": [1, 2]}""";

    @Test
    void fromJson_peftFile_readsEveryFieldAndKeepsUnknownOnes() throws PeftException {
        AdapterConfig c = AdapterConfig.fromJson(PEFT_JSON, "test");
        PromptTuningConfig pt = assertInstanceOf(PromptTuningConfig.class, c);
        assertEquals(8, pt.numVirtualTokens());
        assertEquals(576, pt.tokenDim());
        assertEquals(30, pt.numLayers());
        assertEquals(PromptTuningInit.TEXT, pt.promptTuningInit());
        assertEquals("Answer briefly:", pt.promptTuningInitText());
        assertTrue(pt.inferenceMode());
        assertEquals(List.of(1, 2), pt.extraFields().get("future_field"));
        assertEquals("0.21.2", pt.extraFields().get("peft_version"));
    }

    @Test
    void toJson_roundTrip_sameConfigAndPeftNames() throws PeftException {
        PromptTuningConfig pt = (PromptTuningConfig) AdapterConfig.fromJson(PEFT_JSON, "test");
        String json = pt.toJson();
        assertTrue(json.contains("\"num_virtual_tokens\" : 8"), json);
        assertTrue(json.contains("\"prompt_tuning_init\" : \"TEXT\""), json);
        assertTrue(json.contains("\"future_field\""), json);
        assertTrue(!json.contains("init_token_ids") && !json.contains("initTokenIds"), json);
        assertEquals(pt, AdapterConfig.fromJson(json, "again"));
    }

    @Test
    void defaults_arePefts() {
        PromptTuningConfig c = PromptTuningConfig.builder().setNumVirtualTokens(4).build();
        assertEquals(PromptTuningInit.RANDOM, c.promptTuningInit());
        assertEquals("PROMPT_TUNING", c.peftType());
        assertEquals(null, c.tokenDim());
        assertEquals(false, c.inferenceMode());
    }

    @Test
    void validation_badFields_messageNamesTheField() {
        String zero = assertThrows(IllegalArgumentException.class,
                () -> PromptTuningConfig.builder().setNumVirtualTokens(0).build()).getMessage();
        assertTrue(zero.contains("num_virtual_tokens"), zero);
        String text = assertThrows(PeftException.class, () -> AdapterConfig.fromJson(
                "{\"peft_type\":\"PROMPT_TUNING\",\"num_virtual_tokens\":4,\"prompt_tuning_init\":\"TEXT\","
                        + "\"tokenizer_name_or_path\":\"x\"}", "cfg.json")).getMessage();
        assertTrue(text.contains("prompt_tuning_init_text"), text);
        String tok = assertThrows(PeftException.class, () -> AdapterConfig.fromJson(
                "{\"peft_type\":\"PROMPT_TUNING\",\"num_virtual_tokens\":4,\"prompt_tuning_init\":\"TEXT\","
                        + "\"prompt_tuning_init_text\":\"hi\"}", "cfg.json")).getMessage();
        assertTrue(tok.contains("tokenizer_name_or_path"), tok);
    }

    @Test
    void initTokens_fit_repeatsAndTruncatesAsPeft() {
        // PEFT: longer -> ids[:n]; shorter -> ids * ceil(n / len) then [:n]
        assertArrayEquals(new long[] {7, 8, 9, 7, 8, 9, 7}, InitTokens.fit(List.of(7, 8, 9), 7));
        assertArrayEquals(new long[] {7, 8}, InitTokens.fit(List.of(7, 8, 9), 2));
        assertArrayEquals(new long[] {7, 8, 9}, InitTokens.fit(List.of(7, 8, 9), 3));
    }
}
