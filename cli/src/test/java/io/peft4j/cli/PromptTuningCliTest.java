package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.prompt.PromptTuningConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt-tuning adapter goes through {@code --adapter} unchanged: eval's loss and generate use it, inspect shows
 * its config; {@code finetune --method prompt-tuning} refuses bad prompt options with exit 2 before loading.
 */
class PromptTuningCliTest {
    private static final ModelConfig TINY = TinyModelFolder.TINY;

    @TempDir
    Path tmp;

    @Test
    void promptAdapter_evalGenerateInspect_useIt() throws Exception {
        String dense = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        String adapter = tmp.resolve("prompt").toString();
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(TINY, 5, m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, PromptTuningConfig.builder().setNumVirtualTokens(3).build(), 3L);
            peft.save(Path.of(adapter));
        }
        String data = Files.writeString(tmp.resolve("data.txt"), "a b c a b c b a c a b a a c").toString();
        CliRun base = CliRun.of("eval", "--model", dense, "--data", data, "--json");
        CliRun adapted = CliRun.of("eval", "--model", dense, "--adapter", adapter, "--data", data, "--json");
        assertEquals(0, adapted.code(), adapted.err());
        assertTrue(adapted.err().contains("PROMPT_TUNING"), adapted.err());
        assertEquals(base.json().get("tokens").asLong(), adapted.json().get("tokens").asLong(), "same scored tokens");
        assertTrue(Math.abs(base.json().get("loss").asDouble() - adapted.json().get("loss").asDouble()) > 1e-3,
                "the soft prompt changes the loss");

        CliRun gen = CliRun.of("generate", "--model", dense, "--adapter", adapter, "--prompt", "a b",
                "--max-new-tokens", "3", "--json");
        assertEquals(0, gen.code(), gen.err());

        CliRun inspect = CliRun.of("inspect", "--adapter", adapter, "--json");
        assertEquals(0, inspect.code(), inspect.err());
        assertEquals("PROMPT_TUNING", inspect.json().get("peft_type").asText());
        assertEquals(3, inspect.json().get("num_virtual_tokens").asInt());
        assertEquals(3L * TINY.hiddenSize(), inspect.json().get("parameters").asLong());
    }

    @Test
    void finetunePromptTuning_badOptions_exit2NamingTheOption() throws Exception {
        String data = Files.writeString(tmp.resolve("d.jsonl"), "{\"instruction\":\"a\",\"output\":\"b\"}\n").toString();
        String[] common = {"finetune", "--method", "prompt-tuning", "--model", tmp.resolve("none").toString(),
                "--data", data, "--output", tmp.resolve("o").toString()};
        assertExit2(CliRun.of(concat(common, "--num-virtual-tokens", "0")), "--num-virtual-tokens");
        assertExit2(CliRun.of(concat(common, "--prompt-init", "fancy")), "--prompt-init");
        assertExit2(CliRun.of(concat(common, "--prompt-init", "text")), "--prompt-init-text");
        assertExit2(CliRun.of(concat(common, "--gradient-checkpointing")), "--gradient-checkpointing");
        assertExit2(CliRun.of("finetune", "--method", "prefix-tuning", "--model", "x", "--data", data, "--output",
                "o"), "--method prefix-tuning");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void assertExit2(CliRun r, String text) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("peft4j: ") && lines[lines.length - 1].contains(text), r.err());
        assertTrue(!r.err().contains("\tat "), r.err());
    }
}
