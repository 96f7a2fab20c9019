package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MergeAndExport} on the real model with a random LoRA: the folder is written and answers as the adapter did. */
class MergeAndExportIT {
    @TempDir
    Path tmp;

    @Test
    void main_randomLora_writesADenseFolderThatAnswersLikeTheAdapter() throws Exception {
        Path model = TestResources.testModel();
        Path adapter = ExampleRun.randomLora(model, tmp.resolve("adapter"), 11);
        Path merged = tmp.resolve("merged");
        String out = ExampleRun.capture(MergeAndExport::main, model.toString(), adapter.toString(), merged.toString());

        String withAdapter = ExampleRun.all(out, "^with the adapter: (.*)$").get(0);
        String fromFolder = ExampleRun.all(out, "^merged folder:    (.*)$").get(0);
        assertEquals(withAdapter, fromFolder, out);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
            assertTrue(out.contains("wrote " + f + " ("), "no '" + f + "' line in:\n" + out);
            assertTrue(Files.size(merged.resolve(f)) > 0, f);
        }
        // 135M parameters as fp32 (tied embedding written once): over 500 MB
        assertTrue(Files.size(merged.resolve("model.safetensors")) > 500_000_000L);
        try (Peft4jModel base = Peft4jModel.builder().setPath(model).build()) {
            String plain = base.generate("The capital of France is",
                    GenerationConfig.builder().optMaxNewTokens(16).build()).strip().replace('\n', ' ');
            assertNotEquals(plain, fromFolder, "the merged weights should differ from the base");
        }
    }
}
