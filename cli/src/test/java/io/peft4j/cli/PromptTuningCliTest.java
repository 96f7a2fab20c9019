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
 * its config; {@code finetune --method prompt-tuning} refuses bad prompt options with exit 2 before loading;
 * {@code finetune --method p-tuning} trains an LSTM-encoded prompt and saves PEFT's layout.
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
    void finetunePTuningLstm_trainsSavesPeftsLayout_inspectAndGenerateUseIt() throws Exception {
        String model = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        Path data = Files.writeString(tmp.resolve("train.jsonl"), "{\"instruction\":\"a b\",\"output\":\"c d\"}\n"
                + "{\"instruction\":\"b c\",\"output\":\"d e\"}\n{\"instruction\":\"e f\",\"output\":\"g a\"}\n");
        Path out = tmp.resolve("pt");
        CliRun ft = CliRun.of("finetune", "--method", "p-tuning", "--encoder-type", "lstm", "--encoder-hidden-size",
                "8", "--num-virtual-tokens", "4", "--model", model, "--data", data.toString(), "--output",
                out.toString(), "--max-steps", "3", "--batch-size", "1", "--lr", "1e-2", "--template", "alpaca",
                "--max-seq-len", "64", "--json");
        assertEquals(0, ft.code(), ft.err());
        assertTrue(ft.json().get("train_loss").asDouble() > 0, ft.out());
        // table 4 x hidden, 2 layers x 2 directions of LSTM(in, 8), Linear(16, 16), Linear(16, hidden)
        int h = TINY.hiddenSize();
        long params = 4L * h + 2 * (32L * h + 32 * 8 + 64) + 2 * (32L * 16 + 32 * 8 + 64) + (16 * 16 + 16)
                + (16L * h + h);
        assertTrue(ft.err().contains(String.format("trainable params: %,d ", params)), ft.err());
        String config = Files.readString(out.resolve("adapter_config.json"));
        assertTrue(config.contains("\"peft_type\" : \"P_TUNING\"") && config.contains("\"LSTM\"")
                && config.contains("\"inference_mode\" : true"), config);

        CliRun inspect = CliRun.of("inspect", "--adapter", out.toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        assertEquals("P_TUNING", inspect.json().get("peft_type").asText());
        assertEquals(4L * h, inspect.json().get("parameters").asLong(), "saved: the encoder's output table");
        CliRun gen = CliRun.of("generate", "--model", model, "--adapter", out.toString(), "--prompt", "a b",
                "--max-new-tokens", "3", "--json");
        assertEquals(0, gen.code(), gen.err());
    }

    @Test
    void finetunePTuning_badOptions_exit2NamingTheOption() throws Exception {
        String data = Files.writeString(tmp.resolve("d.jsonl"), "{\"instruction\":\"a\",\"output\":\"b\"}\n")
                .toString();
        String[] common = {"finetune", "--method", "p-tuning", "--model", tmp.resolve("none").toString(),
                "--data", data, "--output", tmp.resolve("o").toString()};
        assertExit2(CliRun.of(concat(common, "--encoder-type", "gru")), "--encoder-type");
        assertExit2(CliRun.of(concat(common, "--encoder-hidden-size", "0")), "--encoder-hidden-size");
        assertExit2(CliRun.of(concat(common, "--encoder-dropout", "0.5")), "--encoder-dropout");
        assertExit2(CliRun.of(concat(common, "--encoder-type", "lstm", "--encoder-num-layers", "0")),
                "--encoder-num-layers");
        assertExit2(CliRun.of(concat(common, "--prompt-init", "text", "--prompt-init-text", "x")), "--prompt-init");
        assertExit2(CliRun.of("finetune", "--model", "x", "--data", data, "--output", "o", "--encoder-type", "lstm"),
                "--encoder-");
    }

    @Test
    void finetunePromptTuning_badOptions_exit2NamingTheOption() throws Exception {
        String data = Files.writeString(tmp.resolve("d.jsonl"), "{\"instruction\":\"a\",\"output\":\"b\"}\n").toString();
        String[] common = {"finetune", "--method", "prompt-tuning", "--model", tmp.resolve("none").toString(),
                "--data", data, "--output", tmp.resolve("o").toString()};
        assertExit2(CliRun.of(concat(common, "--num-virtual-tokens", "0")), "--num-virtual-tokens");
        assertExit2(CliRun.of(concat(common, "--prompt-init", "fancy")), "--prompt-init");
        assertExit2(CliRun.of(concat(common, "--prompt-init", "text")), "--prompt-init-text");
        assertExit2(CliRun.of("finetune", "--method", "adalora", "--model", "x", "--data", data, "--output",
                "o"), "--method adalora");
    }

    @Test
    void finetunePrefixTuningWithProjection_savesPeftsShape_inspectAndGenerateUseIt() throws Exception {
        String model = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        Path data = Files.writeString(tmp.resolve("train.jsonl"), "{\"instruction\":\"a b\",\"output\":\"c d\"}\n"
                + "{\"instruction\":\"b c\",\"output\":\"d e\"}\n");
        Path out = tmp.resolve("prefix");
        CliRun ft = CliRun.of("finetune", "--method", "prefix-tuning", "--prefix-projection", "--encoder-hidden-size",
                "8", "--num-virtual-tokens", "4", "--model", model, "--data", data.toString(), "--output",
                out.toString(), "--max-steps", "2", "--batch-size", "1", "--lr", "1e-2", "--template", "alpaca",
                "--max-seq-len", "64", "--json");
        assertEquals(0, ft.code(), ft.err());
        int kvWidth = TINY.numKvHeads() * TINY.headDim();
        int width = TINY.numLayers() * 2 * kvWidth;
        // table 4 x kv width, Linear(kv width, 8), Linear(8, layers x 2 x kv width)
        long params = 4L * kvWidth + (8L * kvWidth + 8) + (8L * width + width);
        assertTrue(ft.err().contains(String.format("trainable params: %,d ", params)), ft.err());
        String config = Files.readString(out.resolve("adapter_config.json"));
        assertTrue(config.contains("\"peft_type\" : \"PREFIX_TUNING\"") && config.contains("\"prefix_projection\" : true")
                && config.contains("\"token_dim\" : " + kvWidth), config);
        CliRun inspect = CliRun.of("inspect", "--adapter", out.toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        assertEquals("PREFIX_TUNING", inspect.json().get("peft_type").asText());
        assertEquals(4, inspect.json().get("num_virtual_tokens").asInt());
        assertEquals(4L * width, inspect.json().get("parameters").asLong(), "saved: the prefix itself");
        CliRun gen = CliRun.of("generate", "--model", model, "--adapter", out.toString(), "--prompt", "a b",
                "--max-new-tokens", "3", "--json");
        assertEquals(0, gen.code(), gen.err());
    }

    @Test
    void finetunePrefixTuning_badOptions_exit2NamingTheOption() throws Exception {
        String data = Files.writeString(tmp.resolve("d.jsonl"), "{\"instruction\":\"a\",\"output\":\"b\"}\n").toString();
        String[] common = {"finetune", "--method", "prefix-tuning", "--model", tmp.resolve("none").toString(),
                "--data", data, "--output", tmp.resolve("o").toString()};
        assertExit2(CliRun.of(concat(common, "--encoder-type", "mlp")), "--encoder-hidden-size");
        assertExit2(CliRun.of(concat(common, "--encoder-hidden-size", "8")), "--prefix-projection");
        assertExit2(CliRun.of(concat(common, "--prefix-projection", "--encoder-hidden-size", "0")),
                "--encoder-hidden-size");
        assertExit2(CliRun.of(concat(common, "--prompt-init", "vocab")), "--prompt-init");
        assertExit2(CliRun.of(concat(common, "--num-virtual-tokens", "0")), "--num-virtual-tokens");
        assertExit2(CliRun.of("finetune", "--method", "p-tuning", "--prefix-projection", "--model", "x", "--data",
                data, "--output", "o"), "--prefix-projection");
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
