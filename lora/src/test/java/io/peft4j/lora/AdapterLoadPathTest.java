package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.ForwardingLinear;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The adapter load path: F32 tensors are copied once out of the memory-mapped file into arrays the adapter owns
 * (bit-exact, writable, independent of the file), and attaching plain LoRA never reads the base weight.
 */
class AdapterLoadPathTest {
    @TempDir
    Path tmp;

    @Test
    void loadAdapter_f32File_givesBitExactArraysThatDoNotAliasTheFile() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel base = TinyModels.model(m); PeftModel peft = PeftModel.wrap(base)) {
            peft.addAdapter("default", LoraConfig.builder().optR(4).optInitLoraWeights(InitLoraWeights.RANDOM)
                    .optTargetModules(TargetModules.of("q_proj", "v_proj")).build(), 3L);
            Map<String, NDArray> saved = peft.adapter("default").stateDict();
            float[][] expected = saved.values().stream().map(NDArray::toFloatArray).toArray(float[][]::new);
            peft.save(tmp);
            byte[] fileBefore = Files.readAllBytes(tmp.resolve("adapter_model.safetensors"));
            peft.deleteAdapter("default");

            peft.loadAdapter(tmp, "loaded");
            NDArray[] live = peft.adapter("loaded").stateDict().values().toArray(NDArray[]::new);
            assertEquals(expected.length, live.length);
            assertEquals(8, live.length); // 2 layers x (q, v) x (A, B)
            for (int i = 0; i < live.length; i++) {
                assertArrayEquals(expected[i], live[i].toFloatArray(), 0f, "tensor " + i);
            }
            for (NDArray a : live) {
                a.subi(1f);   // what an optimizer step does in place
            }
            assertArrayEquals(fileBefore, Files.readAllBytes(tmp.resolve("adapter_model.safetensors")));
            assertNotEquals(expected[0][0], live[0].toFloatArray()[0]);

            peft.loadAdapter(tmp, "again");   // the file still holds the saved values
            float[] again = peft.adapter("again").stateDict().values().iterator().next().toFloatArray();
            assertArrayEquals(expected[0], again, 0f);
        }
    }

    @Test
    void addAdapter_plainLora_neverReadsTheBaseWeight_doraReadsItOnce() {
        try (NDManager m = Peft4j.newManager()) {
            CountingLinear counted = new CountingLinear(new DenseLinear(m.randomNormal(new Shape(24, 16)), null));
            try (LoraLinear lora = new LoraLinear("model.layers.0.self_attn.q_proj", counted, m)) {
                lora.addAdapter("plain", LoraConfig.builder().optR(4).build(), 1L);
                assertEquals(0, counted.denseWeightCalls);
                lora.addAdapter("dora", LoraConfig.builder().optR(4).optUseDora(true).build(), 2L);
                assertEquals(1, counted.denseWeightCalls);
            }
        }
    }

    /** A layer that counts {@link LinearLayer#denseWeight} calls (a full weight copy, or a dequantization). */
    private static final class CountingLinear extends ForwardingLinear {
        int denseWeightCalls;

        CountingLinear(LinearLayer inner) {
            super(inner);
        }

        @Override
        public NDArray denseWeight(NDManager manager) {
            denseWeightCalls++;
            return super.denseWeight(manager);
        }
    }
}
