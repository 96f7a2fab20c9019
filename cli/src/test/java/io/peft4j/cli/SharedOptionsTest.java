package io.peft4j.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shared option mixins: one {@code --max-seq-len} default for finetune, data and eval (so {@code data} previews
 * what {@code finetune} trains on), finetune's LoRA defaults, and the benches' own LoRA defaults.
 */
class SharedOptionsTest {
    private static final CommandLine CLI = new CommandLine(new Peft4jCommand());

    private static String defaultOf(String option, String... command) {
        CommandLine c = CLI;
        for (String name : command) {
            c = c.getSubcommands().get(name);
        }
        CommandSpec spec = c.getCommandSpec();
        return spec.findOption(option).defaultValueString();
    }

    @Test
    void maxSeqLen_finetuneDataEval_oneDefault512() {
        assertEquals("512", defaultOf("--max-seq-len", "finetune"));
        assertEquals("512", defaultOf("--max-seq-len", "data"));
        assertEquals("512", defaultOf("--max-seq-len", "eval"));
        assertEquals("512", defaultOf("--max-length", "eval"), "eval's old name still works");
    }

    @Test
    void loraOptions_finetuneAndBenches_ownDefaults() {
        assertEquals("8", defaultOf("--r", "finetune"));
        assertEquals("16", defaultOf("--alpha", "finetune"));
        assertEquals("0.05", defaultOf("--dropout", "finetune"));
        assertEquals("q_proj,v_proj", defaultOf("--target-modules", "finetune"));
        for (String bench : new String[] {"train", "mixed"}) {
            assertEquals("16", defaultOf("--r", "bench", bench));
            assertEquals("32", defaultOf("--alpha", "bench", bench));
            assertEquals("0", defaultOf("--dropout", "bench", bench));
            assertEquals("all-linear", defaultOf("--target-modules", "bench", bench));
        }
    }

    @Test
    void data_withoutMaxSeqLen_reports512() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("data-default");
        java.nio.file.Path data = dir.resolve("d.jsonl");
        java.nio.file.Files.writeString(data, "{\"question\":\"a b\",\"output\":\"c\"}\n");
        java.nio.file.Path model = TinyModelFolder.write(dir.resolve("tiny"), TinyModelFolder.TINY, 1);
        CliRun r = CliRun.of("data", "--data", data.toString(), "--model", model.toString(), "--template", "alpaca",
                "--field", "instruction=question", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals(512, r.json().get("max_seq_len").asInt());
        assertEquals(1, r.json().get("records").asInt(), "--field renames work in data too: " + r.out());
    }
}
