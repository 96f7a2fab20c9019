package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j inspect} on the real SmolLM2 GGUF reports its real shape; bad input exits 2 with one line. */
class InspectCommandIT {

    @Test
    void inspect_smolLm2Gguf_reportsRealShape() throws Exception {
        CliRun r = CliRun.of("inspect", "--model", TestResources.testModel().toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        for (String key : new String[] {"architecture", "num_layers", "hidden_size", "num_heads", "num_kv_heads",
            "vocab_size", "parameters", "tensors", "bytes_per_param", "chat_template", "load_ms"}) {
            assertTrue(j.has(key), key + " in " + j);
        }
        assertEquals(30, j.get("num_layers").asInt());
        assertEquals(49152, j.get("vocab_size").asInt());
        assertEquals(576, j.get("hidden_size").asInt());
        assertEquals(9, j.get("num_heads").asInt());
        assertEquals(3, j.get("num_kv_heads").asInt());
        assertEquals(134_515_008L, j.get("parameters").asLong());
        assertEquals(272, j.get("tensors").asInt());
        assertTrue(j.get("chat_template").asBoolean());
        assertEquals(210, j.get("dtypes").get("Q4_1").asInt());
        double bpp = j.get("bytes_per_param").asDouble();
        assertTrue(bpp > 0.5 && bpp < 1.0, "Q4_1 with F32 norms stores under a byte per parameter: " + bpp);
        // the quantized weights: 210 Q4_1 projections (20 bytes per 32) and the Q8_0 embedding (34 per 32)
        long linear = 30L * (2 * 576 * 576 + 2 * 576 * 192 + 3 * 576 * 1536);
        long embedding = 49152L * 576;
        assertEquals(linear + embedding, j.get("quantized_parameters").asLong(), j.toString());
        assertEquals((linear * 20 / 32 + embedding * 34 / 32) / (double) (linear + embedding),
                j.get("bytes_per_param_quantized").asDouble(), 1e-4, j.toString());
        System.out.println("inspect load_ms=" + j.get("load_ms"));
    }

    @Test
    void inspect_truncatedGguf_exit2WithOneLineNamingFile(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("broken.gguf");
        byte[] head = new byte[4096];
        try (var in = Files.newInputStream(TestResources.testModel())) {
            in.readNBytes(head, 0, head.length);
        }
        Files.write(bad, head);
        CliRun r = CliRun.of("inspect", "--model", bad.toString());
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("peft4j: ") && last.contains("broken.gguf"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug: " + r.err());
    }

    @Test
    void inspectAdapter_pythonPeftGpt2Adapter_readsConfigAndTensors() throws Exception {
        Path dir = TestResources.shared("adapters/gpt2-tigrinya-lora");
        CliRun r = CliRun.of("inspect", "--adapter", dir.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("LORA", j.get("peft_type").asText());
        assertEquals("gpt2", j.get("base_model_name_or_path").asText());
        assertEquals(8, j.get("r").asInt());
        assertEquals(32, j.get("lora_alpha").asInt());
        assertEquals("c_attn", j.get("target_modules").get(0).asText());
        assertEquals(72, j.get("tensors").asInt());
        assertEquals(811_008L, j.get("parameters").asLong());
        assertEquals(72, j.get("dtypes").get("F32").asInt());
        assertEquals(3_253_104L + 837L, j.get("file_bytes").asLong());
        assertTrue(j.get("base_fingerprint").isNull(), "PEFT writes no peft4j fingerprint");
    }
}
