package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code peft4j bench NAME} through the bench module on a tiny random model: every bench keeps its {@code --json}
 * keys, the benches keep their own LoRA defaults (r 16, all-linear) through the shared {@link LoraOptions}, and a
 * missing peer measurement is said on stderr.
 */
class BenchCommandTest {
    @TempDir
    static Path tmp;

    static String model;

    @BeforeAll
    static void writeModel() throws Exception {
        model = TinyModelFolder.write(tmp.resolve("tiny"), TinyModelFolder.TINY, 3).toString();
    }

    private static JsonNode json(String... args) throws Exception {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), r.err());
        return r.json();
    }

    private static void assertKeys(JsonNode j, List<String> keys) {
        for (String k : keys) {
            assertTrue(j.has(k), k + " in " + j);
        }
    }

    @Test
    void benchDequant_smallWeightNoModel_reportsRatesAndRatios() throws Exception {
        JsonNode j = json("bench", "dequant", "--rows", "64", "--cols", "128", "--iterations", "1", "--model", "none",
                "--json");
        assertEquals("dequant", j.get("name").asText());
        assertEquals(64 * 128, j.get("elements").asInt());
        assertKeys(j, List.of("dequant_elements_per_s", "dequant_java_loop_elements_per_s", "copy_elements_per_s",
                "ratio_dequant_vs_copy", "ratio_dequant_vs_copy_min", "ratio_dequant_vs_copy_max",
                "ratio_djl_dequant_vs_djl_copy"));
        assertFalse(j.has("forward_fp32_ms"), "--model none skips the forward comparison: " + j);
    }

    @Test
    void benchForward_noReference_reportsThroughputAndMfu() throws Exception {
        JsonNode j = json("bench", "forward", "--model", model, "--batch", "1", "--seq", "8", "--gen-prompt", "4",
                "--gen-tokens", "2", "--iters", "1", "--no-reference", "--json");
        assertEquals("forward", j.get("name").asText());
        assertKeys(j, List.of("batch", "seq", "forward_tokens_per_s", "generate_tokens_per_s",
                "generate_nocache_tokens_per_s", "matmul_gflops", "forward_gflop", "mfu"));
        assertTrue(j.get("forward_tokens_per_s").asDouble() > 0, j.toString());
        assertFalse(j.has("ratio_forward"), j.toString());
    }

    @Test
    void benchTrain_noPython_benchDefaultsAndSaysWhyNoPeftRatio() throws Exception {
        CliRun r = CliRun.of("bench", "train", "--model", model, "--batch", "1", "--seq", "8", "--steps", "1",
                "--python", tmp.resolve("no-such-python").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("train", j.get("name").asText());
        assertEquals(16, j.get("r").asInt(), "bench train keeps r 16 as its default: " + j);
        assertKeys(j, List.of("trainable_params", "step_s", "tokens_per_s", "gflop_per_step", "matmul_gflops", "mfu",
                "gradient_checkpointing", "peak_rss_mb"));
        // all-linear on 2 layers of hidden 64, intermediate 128, kv 2x16: 2 x 16 x (q 128 + k 96 + v 96 + o 128
        // + gate 192 + up 192 + down 192)
        assertEquals(2 * 16 * (128 + 96 + 96 + 128 + 192 + 192 + 192), j.get("trainable_params").asLong());
        assertFalse(j.has("ratio_step_time"), j.toString());
        assertTrue(r.err().contains("bench train: no PEFT ratio: no reference python at "
                + tmp.resolve("no-such-python")), r.err());
    }

    @Test
    void benchTrain_softPrompts_countPeftsParameters_andRefuseLoraOnlyModes() throws Exception {
        JsonNode pt = json("bench", "train", "--model", model, "--method", "prompt-tuning", "--num-virtual-tokens", "5",
                "--batch", "1", "--seq", "8", "--steps", "1", "--no-reference", "--json");
        assertEquals("PROMPT_TUNING", pt.get("method").asText());
        assertEquals(5, pt.get("num_virtual_tokens").asInt());
        assertEquals(5 * 64, pt.get("trainable_params").asLong(), "5 rows of hidden 64");
        assertTrue(pt.get("step_s").asDouble() > 0, pt.toString());
        JsonNode prefix = json("bench", "train", "--model", model, "--method", "prefix-tuning", "--num-virtual-tokens",
                "5", "--batch", "1", "--seq", "8", "--steps", "1", "--no-reference", "--json");
        assertEquals("PREFIX_TUNING", prefix.get("method").asText());
        assertEquals(5 * 2 * 2 * 32, prefix.get("trainable_params").asLong(), "5 x layers 2 x (k, v) x kv width 32");
        CliRun checkpointed = CliRun.of("bench", "train", "--model", model, "--method", "prefix-tuning",
                "--gradient-checkpointing", "--no-reference");
        assertEquals(2, checkpointed.code(), checkpointed.err());
        assertTrue(checkpointed.err().contains("--gradient-checkpointing"), checkpointed.err());
        CliRun zero = CliRun.of("bench", "train", "--model", model, "--method", "prompt-tuning",
                "--num-virtual-tokens", "0", "--no-reference");
        assertEquals(2, zero.code(), zero.err());
        assertTrue(zero.err().contains("--num-virtual-tokens"), zero.err());
    }

    @Test
    void benchTrain_compareCheckpointing_reportsBothModes() throws Exception {
        JsonNode j = json("bench", "train", "--model", model, "--batch", "1", "--seq", "8", "--steps", "1", "--r", "4",
                "--target-modules", "q_proj", "--compare-checkpointing", "--json");
        assertEquals("train_checkpointing", j.get("name").asText());
        assertEquals(4, j.get("r").asInt());
        assertKeys(j, List.of("step_s", "step_s_checkpointing", "ratio_step_time_checkpointing", "peak_rss_mb",
                "peak_rss_mb_checkpointing"));
    }

    @Test
    void benchTrain_objectiveDpo_comparesDpoWithSftOnTheSameRows() throws Exception {
        JsonNode j = json("bench", "train", "--model", model, "--batch", "2", "--seq", "8", "--steps", "1", "--r", "4",
                "--target-modules", "q_proj", "--objective", "dpo", "--json");
        assertEquals("train_dpo", j.get("name").asText());
        assertKeys(j, List.of("step_s_sft", "step_s_dpo", "ratio_step_time_dpo_sft", "peak_rss_mb_sft",
                "peak_rss_mb_dpo", "ratio_peak_rss_dpo_sft"));
        assertTrue(j.get("step_s_dpo").asDouble() > 0 && j.get("step_s_sft").asDouble() > 0, j.toString());
        CliRun odd = CliRun.of("bench", "train", "--model", model, "--batch", "3", "--objective", "dpo");
        assertEquals(2, odd.code(), odd.err());
        assertTrue(odd.err().contains("even batch"), odd.err());
    }

    @Test
    void benchMixed_twoAdapters_reportsMixedAgainstSeparate() throws Exception {
        JsonNode j = json("bench", "mixed", "--model", model, "--adapters", "2", "--seq", "4", "--new-tokens", "2",
                "--repeats", "1", "--json");
        assertEquals("mixed", j.get("name").asText());
        assertEquals(2, j.get("adapters").asInt());
        assertKeys(j, List.of("mixed_forward_s", "separate_forward_s", "same_adapter_forward_s", "mixed_generate_s",
                "separate_generate_s", "ratio_forward_separate_over_mixed", "ratio_forward_mixed_over_same",
                "ratio_generate_separate_over_mixed"));
    }

    @Test
    void benchTrain_badSteps_exits2WithOneLine() {
        CliRun r = CliRun.of("bench", "train", "--model", model, "--steps", "0", "--no-reference");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("steps must be >= 1") || r.err().contains("steps 0"), r.err());
    }

    @Test
    void benchTrain_modelAndSyntheticBothOrNeither_exit2WithOneLine() {
        for (CliRun r : List.of(CliRun.of("bench", "train", "--no-reference"),
                CliRun.of("bench", "train", "--model", model, "--synthetic", "tinyllama-1.1b"))) {
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("exactly one of --model PATH and --synthetic NAME"), r.err());
        }
        CliRun unknown = CliRun.of("bench", "train", "--synthetic", "gpt-9");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("unknown --synthetic shape 'gpt-9' (known: smollm2-360m, tinyllama-1.1b)"), unknown.err());
    }
}
