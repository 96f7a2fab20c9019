package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --adapter} lives in {@link ModelOptions}: generate, eval and merge load it the same way (the adapter
 * changes eval's loss; the merged folder gives the adapted loss), merge requires it, finetune refuses it.
 */
class ModelOptionsAdapterTest {
    private static final ModelConfig TINY = TinyModelFolder.TINY;

    @TempDir
    Path tmp;

    @Test
    void adapterOption_generateEvalMerge_loadTheAdapter_mergeNeedsIt_finetuneRefusesIt() throws Exception {
        String dense = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        String adapter = tmp.resolve("adapter").toString();
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(TINY, 5, m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, LoraConfig.builder().optR(4).optLoraAlpha(64)
                    .optTargetModules(TargetModules.ALL_LINEAR).optInitLoraWeights(InitLoraWeights.RANDOM).build(), 3L);
            peft.save(Path.of(adapter));
        }
        String data = Files.writeString(tmp.resolve("data.txt"), "a b c a b c b a c a b a a c").toString();

        CliRun base = CliRun.of("eval", "--model", dense, "--data", data, "--json");
        CliRun adapted = CliRun.of("eval", "--model", dense, "--adapter", adapter, "--data", data, "--json");
        assertEquals(0, adapted.code(), adapted.err());
        assertTrue(adapted.err().contains("eval: adapter"), adapted.err());
        double adaptedLoss = adapted.json().get("loss").asDouble();
        assertTrue(Math.abs(base.json().get("loss").asDouble() - adaptedLoss) > 1e-3, "the adapter changes the loss");

        CliRun gen = CliRun.of("generate", "--model", dense, "--adapter", adapter, "--prompt", "a b",
                "--max-new-tokens", "3", "--json");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.err().contains("generate: adapter"), gen.err());

        assertExit2(CliRun.of("merge", "--model", dense, "--output", tmp.resolve("m0").toString()),
                "merge needs --adapter");
        String merged = tmp.resolve("merged").toString();
        CliRun merge = CliRun.of("merge", "--model", dense, "--adapter", adapter, "--output", merged);
        assertEquals(0, merge.code(), merge.err());
        double mergedLoss = CliRun.of("eval", "--model", merged, "--data", data, "--json").json().get("loss").asDouble();
        assertEquals(adaptedLoss, mergedLoss, 1e-4, "merged folder == base + adapter");

        assertExit2(CliRun.of("finetune", "--model", dense, "--adapter", adapter, "--data", data, "--output",
                tmp.resolve("ft").toString()), "finetune does not take --adapter");
        assertExit2(CliRun.of("generate", "--model", dense, "--adapter", tmp.resolve("nope").toString(), "--prompt",
                "a"), "nope");
    }

    private static void assertExit2(CliRun r, String text) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("peft4j: ") && lines[lines.length - 1].contains(text), r.err());
        assertTrue(!r.err().contains("\tat "), r.err());
    }
}
