package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peft4j.core.Peft4j;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real PEFT adapter in ../shared (see SOURCES.md): 72 F32 tensors with PEFT's key names, 811,008 params. */
class SafetensorsSharedIT {
    private static final String PREFIX = "base_model.model.transformer.h.";

    @Test
    void tigrinyaLora_readsAsPeftWroteIt() throws Exception {
        Path file = TestResources.shared("adapters/gpt2-tigrinya-lora/adapter_model.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(file); NDManager m = Peft4j.newManager()) {
            assertEquals(72, r.names().size());
            assertEquals(Map.of("format", "pt"), r.metadata());
            long params = 0;
            for (String name : r.names()) {
                assertEquals("F32", r.dtype(name), name);
                assertTrue(name.startsWith(PREFIX) && name.matches(
                        "base_model\\.model\\.transformer\\.h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_proj)"
                                + "\\.lora_[AB]\\.weight"), name);
                params += r.numel(name);
            }
            assertEquals(811_008, params);
            for (int layer = 0; layer < 12; layer++) {
                String h = PREFIX + layer + ".";
                assertArrayEquals(new long[] {8, 768}, r.shape(h + "attn.c_attn.lora_A.weight"));
                assertArrayEquals(new long[] {2304, 8}, r.shape(h + "attn.c_attn.lora_B.weight"));
                assertArrayEquals(new long[] {8, 768}, r.shape(h + "attn.c_proj.lora_A.weight"));
                assertArrayEquals(new long[] {768, 8}, r.shape(h + "attn.c_proj.lora_B.weight"));
                assertArrayEquals(new long[] {8, 3072}, r.shape(h + "mlp.c_proj.lora_A.weight"));
                assertArrayEquals(new long[] {768, 8}, r.shape(h + "mlp.c_proj.lora_B.weight"));
            }
            String a = PREFIX + "0.attn.c_attn.lora_A.weight";
            float[] values = r.readFloats(a);
            NDArray loaded = r.load(a, m);
            assertEquals(DataType.FLOAT32, loaded.getDataType());
            assertArrayEquals(values, loaded.toFloatArray());
            double sumSq = 0;
            for (float v : values) {
                assertTrue(Float.isFinite(v));
                sumSq += v * v;
            }
            assertTrue(sumSq > 0, "a trained lora_A is not all zeros");
        }
    }
}
