package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SmolLM2 GGUF and the Hugging Face folder peft4j writes from it load as the same model. */
class CheckpointEquivalenceIT {
    private static final String SAMPLE = "<|im_start|>user\nHéllo wörld 12345, 你好 🙂\n\tcode();<|im_end|>";

    @Test
    void ggufAndExportedFolder_sameConfigTensorsTokensAndLogits(@TempDir Path tmp) throws Exception {
        Path gguf = TestResources.testModel();
        Path folder = tmp.resolve("smollm2-hf");
        try (Checkpoint a = Checkpoints.open(gguf)) {
            HfFolderWriter.write(folder, a.config(), a.tensors(), a.tokenizer(), Map.of("source", "gguf"));
            try (Checkpoint b = Checkpoints.open(folder)) {
                assertEquals("safetensors", b.format());
                assertEquals(a.config(), b.config());
                assertEquals(a.tensors().names().size(), b.tensors().names().size());
                for (String name : new String[] {"model.embed_tokens.weight",
                        "model.layers.0.self_attn.q_proj.weight", "model.layers.29.self_attn.k_proj.weight",
                        "model.norm.weight"}) {
                    assertArrayEquals(a.tensors().readFloats(name), b.tensors().readFloats(name), name);
                }
                assertArrayEquals(a.tokenizer().encode(SAMPLE, true), b.tokenizer().encode(SAMPLE, true));
                assertEquals(a.chatTemplate(), b.chatTemplate());
                assertArrayEquals(lastLogits(a), lastLogits(b));
            }
        }
    }

    @Test
    void folderWithConfigNotMatchingWeights_refusedNamingTensor(@TempDir Path tmp) throws Exception {
        Path folder = tmp.resolve("bad");
        try (Checkpoint a = Checkpoints.open(TestResources.testModel())) {
            HfFolderWriter.write(folder, a.config(), a.tensors(), a.tokenizer(), Map.of());
        }
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(
                folder.resolve("config.json").toFile());
        config.put("intermediate_size", 2048);
        Json.MAPPER.writeValue(folder.resolve("config.json").toFile(), config);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.open(folder));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.gate_proj.weight")
                && e.getMessage().contains("config.json"), e.getMessage());
        Files.delete(folder.resolve("config.json"));
        e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.open(folder));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    private static float[] lastLogits(Checkpoint c) throws Exception {
        try (NDManager m = Peft4j.newManager();
             CausalLM model = LlamaModel.load(c.config(), c.tensors(), m)) {
            int[] ids = c.tokenizer().encode("The capital of France is", true);
            try (NDScope scope = new NDScope()) {
                long[] longs = java.util.Arrays.stream(ids).asLongStream().toArray();
                NDArray logits = model.forward(m.create(longs).reshape(1, ids.length), null, null);
                return logits.get("0, -1, :").toFloatArray();
            }
        }
    }
}
