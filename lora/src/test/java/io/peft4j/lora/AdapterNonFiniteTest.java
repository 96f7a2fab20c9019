package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NaN/Inf adapter tensors are refused on save (old adapter kept) and on load (naming the tensor), and a save into a
 * folder with other files (a finetune output) swaps the adapter while carrying the other files over.
 */
class AdapterNonFiniteTest {
    static final String KEY = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
    @TempDir
    Path tmp;

    @Test
    void save_nanWeight_refusedNamingTensorAndOldAdapterKept() throws Exception {
        Path dir = tmp.resolve("adapter");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraConfig.builder().optInitLoraWeights(InitLoraWeights.RANDOM).build(), 1L);
            peft.save(dir);
            byte[] weights = Files.readAllBytes(dir.resolve("adapter_model.safetensors"));
            var b = peft.adapter("default").stateDict().get("model.layers.1.self_attn.v_proj.lora_B.weight");
            float[] v = b.toFloatArray();
            v[3] = Float.NaN;
            b.set(v);
            PeftException e = assertThrows(PeftException.class, () -> peft.save(dir));
            assertTrue(e.getMessage().contains("'" + KEY + "'") && e.getMessage().contains("NaN")
                    && e.getMessage().contains("previous files kept"), e.getMessage());
            assertArrayEquals(weights, Files.readAllBytes(dir.resolve("adapter_model.safetensors")));
        }
    }

    @Test
    void load_infWeightInFile_refusedNamingTensor() throws Exception {
        Path dir = tmp.resolve("adapter");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraConfig.builder().optInitLoraWeights(InitLoraWeights.RANDOM).build(), 1L);
            peft.save(dir);
        }
        Path file = dir.resolve("adapter_model.safetensors");
        Map<String, TensorData> all = new LinkedHashMap<>();
        Map<String, String> meta;
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            meta = r.metadata();
            for (String name : r.names()) {
                float[] v = r.readFloats(name);
                if (name.equals(KEY)) {
                    v[0] = Float.POSITIVE_INFINITY;
                }
                all.put(name, TensorData.f32(v, r.shape(name)));
            }
        }
        SafetensorsWriter.write(file, all, meta);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> peft.loadAdapter(dir, "default"));
            assertTrue(e.getMessage().contains("'" + KEY + "'") && e.getMessage().contains("Infinity"),
                    e.getMessage());
            assertEquals(0, peft.adapterNames().size(), "nothing half-loaded stays attached");
        }
    }

    @Test
    void save_intoFolderWithOtherFiles_adapterSwappedOthersCarried() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("run"));
        Files.createDirectories(dir.resolve("checkpoint-2"));
        Files.writeString(dir.resolve("checkpoint-2/trainer_state.json"), "{\"step\":2}");
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\":1}\n");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraConfig.builder().optInitLoraWeights(InitLoraWeights.RANDOM).build(), 1L);
            peft.save(dir);
            peft.save(dir);
        }
        try (var s = Files.list(dir)) {
            assertEquals(4, s.count());
        }
        assertEquals("{\"step\":2}", Files.readString(dir.resolve("checkpoint-2/trainer_state.json")));
        assertEquals("{\"step\":1}\n", Files.readString(dir.resolve("metrics.jsonl")));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temp or old folder beside the run folder");
        }
    }
}
