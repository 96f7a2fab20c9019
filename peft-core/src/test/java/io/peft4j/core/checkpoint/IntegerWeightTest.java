package io.peft4j.core.checkpoint;

import io.peft4j.core.checkpoint.gguf.GgufTestWriter;
import io.peft4j.core.checkpoint.gguf.GgufTensorSource;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TensorSource#loadWeight} refuses integer tensors as model weights, naming tensor and dtype (both formats). */
class IntegerWeightTest {
    @TempDir
    Path dir;

    @Test
    void loadWeight_safetensorsI32_refusedNamingTensorAndDtype_floatLoads() throws Exception {
        Path file = Files.write(dir.resolve("w.safetensors"), SafetensorsHostileTest.file(
                "{\"w\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16));
        try (SafetensorsReader r = SafetensorsReader.open(file); NDManager m = Peft4j.newManager()) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.loadWeight("w", m));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("dtype I32"), e.getMessage());
            assertEquals(2, r.loadWeight("f", m).size());
        }
    }

    @Test
    void loadWeight_ggufI32_refusedNamingTensorAndDtype() throws Exception {
        Path file = new GgufTestWriter().kvString("general.architecture", "llama")
                .tensor("blk.0.ffn_up.weight", new long[] {2}, 26, new byte[8]).write(dir, "i32.gguf");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> {
            try (GgufTensorSource r = GgufTensorSource.open(file); NDManager m = Peft4j.newManager()) {
                for (String name : r.names()) {
                    r.loadWeight(name, m);
                }
            }
        });
        assertTrue(e.getMessage().contains("ffn_up") && e.getMessage().contains("I32"), e.getMessage());
    }
}
