package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterSummary;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provenance a save records sits in the safetensors {@code __metadata__} and reads back whole. */
class AdapterProvenanceTest {
    static final LoraConfig CONFIG = LoraConfig.builder().optR(2).optInitLoraWeights(InitLoraWeights.RANDOM).build();
    @TempDir
    Path tmp;

    @Test
    void save_withProvenance_writesPeft4jMetadata_andSummaryReadsItBack() throws Exception {
        Path data = Files.writeString(tmp.resolve("train.jsonl"), "{\"instruction\":\"hi\",\"output\":\"yo\"}\n");
        Provenance p = Provenance.of("lora", 42L, 17, Provenance.sha256(data), "alpaca");
        Path dir = tmp.resolve("adapter");
        Path plain = tmp.resolve("plain");
        float[] saved;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, CONFIG, 3L);
            peft.save(dir, p);
            peft.save(plain);
            saved = TinyModels.logits(peft, TinyModels.ids(m));
        }
        JsonNode meta = AdapterFilesLoraTest.header(dir.resolve("adapter_model.safetensors")).get("__metadata__");
        assertEquals("lora", meta.get("peft4j.method").asText());
        assertEquals("42", meta.get("peft4j.seed").asText());
        assertEquals("17", meta.get("peft4j.steps").asText());
        assertEquals(Provenance.sha256(data), meta.get("peft4j.data_sha256").asText());
        assertEquals("alpaca", meta.get("peft4j.template").asText());
        assertEquals(Provenance.currentVersion(), meta.get("peft4j.version").asText());
        assertTrue(meta.has("peft4j.base_fingerprint"), "next to the base fingerprint: " + meta);

        AdapterSummary s = AdapterSummary.read(dir);
        assertEquals(p, s.provenance());
        assertEquals(s.baseFingerprint(), meta.get("peft4j.base_fingerprint").asText());
        assertNull(AdapterSummary.read(plain).provenance(), "a save without provenance records none");

        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.loadAdapter(dir, "back");
            assertArrayEquals(saved, TinyModels.logits(peft, TinyModels.ids(m)), "the adapter itself is unchanged");
        }
    }

    @Test
    void summary_malformedProvenance_failsNamingFileAndKey() throws Exception {
        Path dir = tmp.resolve("adapter");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, CONFIG, 3L);
            peft.save(dir, Provenance.of("lora", 42L, 17, null, null));
        }
        Path weights = dir.resolve("adapter_model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        String all = new String(bytes, StandardCharsets.ISO_8859_1);
        // same length, so the header size and offsets stay valid
        Files.write(weights, all.replace("\"peft4j.steps\":\"17\"", "\"peft4j.steps\":\"xx\"")
                .getBytes(StandardCharsets.ISO_8859_1));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> AdapterSummary.read(dir));
        assertTrue(e.getMessage().contains("adapter_model.safetensors") && e.getMessage().contains("peft4j.steps"),
                e.getMessage());
    }
}
