package io.peft4j.prompt;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.peft4j.prompt.TinyModels.HIDDEN;
import static io.peft4j.prompt.TinyModels.logits;
import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PTuningTest {
    @TempDir
    Path tmp;

    @Test
    void config_peftJson_roundTripsAndDefaults() throws PeftException {
        String json = "{\"peft_type\":\"P_TUNING\",\"num_virtual_tokens\":4,\"encoder_hidden_size\":16,"
                + "\"peft_version\":\"0.21.2\"}";
        PromptEncoderConfig c = assertInstanceOf(PromptEncoderConfig.class, AdapterConfig.fromJson(json, "t"));
        assertEquals(EncoderReparameterizationType.MLP, c.encoderReparameterizationType());
        assertEquals(2, c.encoderNumLayers());
        assertEquals(0.0, c.encoderDropout());
        assertEquals(c, AdapterConfig.fromJson(c.toJson(), "again"));
        assertTrue(c.toJson().contains("\"peft_version\""));
    }

    @Test
    void attach_lstmOrNoHiddenSize_failsNamingTheField() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            PromptEncoderConfig lstm = PromptEncoderConfig.builder().setNumVirtualTokens(4).setEncoderHiddenSize(8)
                    .optEncoderReparameterizationType(EncoderReparameterizationType.LSTM).build();
            String a = assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("a", lstm, 1L)).getMessage();
            assertTrue(a.contains("encoder_reparameterization_type"), a);
            PromptEncoderConfig none = PromptEncoderConfig.builder().setNumVirtualTokens(4).build();
            String b = assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("b", none, 1L)).getMessage();
            assertTrue(b.contains("encoder_hidden_size"), b);
        }
    }

    @Test
    void train_lossFalls_savesEncoderOutput_loadsAsTableWithSameLogits() throws Exception {
        Path dir = tmp.resolve("pt");
        float[] want;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            Map<String, float[]> before = TinyModels.baseWeights(model);
            peft.addAdapter("default", PromptEncoderConfig.builder().setNumVirtualTokens(4).setEncoderHiddenSize(16)
                    .build(), 3L);
            // table 4x32 + Linear(32,16) + Linear(16,16) + Linear(16,32), with biases
            assertEquals(4 * 32 + (32 * 16 + 16) + (16 * 16 + 16) + (16 * 32 + 32), peft.trainableParameterCount());
            TrainingResult r;
            double evalBefore;
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(20).optBatchSize(4)
                    .optLearningRate(1e-2).build())) {
                evalBefore = t.evaluate(PromptTuningTest.data()).loss();
                r = t.train(PromptTuningTest.data(), PromptTuningTest.data());
            }
            System.err.printf("p-tuning tiny model: eval loss %.4f -> %.4f%n", evalBefore, r.evalLoss());
            assertTrue(r.evalLoss() < 0.7 * evalBefore, "loss falls: " + evalBefore + " -> " + r.evalLoss());
            before.forEach((k, v) -> assertArrayEquals(v, TinyModels.baseWeights(model).get(k), k + " changed"));
            want = logits(peft.asCausalLM(), TinyModels.ids(m));
            peft.save(dir);
        }
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(List.of("prompt_embeddings"), List.copyOf(r.names()));
            assertArrayEquals(new long[] {4, HIDDEN}, r.shape("prompt_embeddings"));
        }
        String json = Files.readString(dir.resolve("adapter_config.json"));
        assertTrue(json.contains("\"peft_type\" : \"P_TUNING\"") && json.contains("\"inference_mode\" : true")
                && json.contains("\"encoder_hidden_size\" : 16"), json);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.loadAdapter(dir, "default");
            assertEquals(4L * HIDDEN, peft.trainableParameterCount(), "a loaded P-tuning adapter is its table");
            float d = maxDiff(want, logits(peft.asCausalLM(), TinyModels.ids(m)));
            assertTrue(d < 1e-5, "loaded logits equal the trained ones: " + d);
        }
    }
}
