package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.peft4j.lora.TinyModels.logits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdapterFilesLoraTest {
    static final LoraConfig DORA_ALL = LoraConfig.builder().optR(4).optLoraAlpha(8).optUseDora(true)
            .optTargetModules(TargetModules.ALL_LINEAR).optInitLoraWeights(InitLoraWeights.RANDOM).build();
    @TempDir
    Path tmp;
    NDManager manager;
    LlamaModel model;
    PeftModel peft;
    NDArray ids;

    @BeforeEach
    void setUp() {
        manager = Peft4j.newManager();
        model = TinyModels.model(manager);
        peft = PeftModel.wrap(model);
        ids = TinyModels.ids(manager);
    }

    @AfterEach
    void tearDown() {
        peft.close();
        model.close();
        manager.close();
    }

    static JsonNode header(Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "data section 8-byte aligned");
        return Json.MAPPER.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
    }

    @Test
    void save_writesPeftLayoutKeysAndFingerprint() throws Exception {
        peft.addAdapter("default", LoraConfig.builder().optUseDora(true).build(), 1L);
        peft.save(tmp);
        JsonNode h = header(tmp.resolve("adapter_model.safetensors"));
        List<String> keys = new ArrayList<>();
        h.fieldNames().forEachRemaining(keys::add);
        assertTrue(keys.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), keys.toString());
        assertTrue(keys.contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"));
        assertTrue(keys.contains("base_model.model.model.layers.1.self_attn.v_proj.lora_magnitude_vector"));
        assertEquals(1 + 2 * 2 * 3, keys.size(), "metadata + 2 layers x (q, v) x (A, B, magnitude)");
        assertEquals("[16,8]", h.get("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight")
                .get("shape").toString());
        assertEquals(peft.fingerprint(), h.get("__metadata__").get("peft4j.base_fingerprint").asText());
        assertEquals("pt", h.get("__metadata__").get("format").asText());
        JsonNode cfg = Json.MAPPER.readTree(tmp.resolve("adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertTrue(cfg.get("use_dora").asBoolean());
    }

    @Test
    void saveLoad_roundTripsLogits_andNonDefaultAdaptersGoToSubfolders() throws Exception {
        peft.addAdapter("default", DORA_ALL, 1L);
        float[] first = logits(peft, ids);
        peft.addAdapter("second", LoraConfig.builder().optInitLoraWeights(InitLoraWeights.RANDOM).build(), 2L);
        float[] second = logits(peft, ids);
        peft.save(tmp);
        assertTrue(Files.isRegularFile(tmp.resolve("second/adapter_model.safetensors")));
        try (NDManager m2 = Peft4j.newManager(); LlamaModel other = TinyModels.model(m2);
             PeftModel p2 = PeftModel.wrap(other)) {
            p2.loadAdapter(tmp, "default");
            assertArrayEquals(first, logits(p2, ids));
            p2.loadAdapter(tmp.resolve("second"), "second");
            assertArrayEquals(second, logits(p2, ids));
        }
    }

    @Test
    void load_otherBaseShapes_throwsMismatchListingKeys() throws Exception {
        peft.addAdapter("default", LoraConfig.builder().build(), 1L);
        peft.save(tmp);
        try (NDManager m2 = Peft4j.newManager();
             LlamaModel wider = LlamaModel.random(TinyModels.config(64), 1, m2);
             PeftModel p2 = PeftModel.wrap(wider)) {
            AdapterMismatchException e = assertThrows(AdapterMismatchException.class,
                    () -> p2.loadAdapter(tmp, "default"));
            assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
            // without the fingerprint (a PEFT-written file) the shapes are checked key by key
            stripMetadata(tmp.resolve("adapter_model.safetensors"));
            e = assertThrows(AdapterMismatchException.class, () -> p2.loadAdapter(tmp, "default"));
            assertTrue(e.getMessage().contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight has "
                    + "shape [8, 32], model needs [8, 64]"), e.getMessage());
            assertTrue(p2.adapterNames().isEmpty(), "a failed load leaves nothing attached");
            assertTrue(wider.linearLayers().values().stream().noneMatch(l -> l instanceof LoraLinear));
        }
    }

    @Test
    void load_missingKeys_throwsMismatch() throws Exception {
        peft.addAdapter("default", LoraConfig.builder().optTargetModules(TargetModules.of("q_proj", "v_proj")).build(),
                1L);
        peft.save(tmp);
        String cfg = Files.readString(tmp.resolve("adapter_config.json"));
        Files.writeString(tmp.resolve("adapter_config.json"), cfg.replace("\"q_proj\"", "\"k_proj\""));
        try (NDManager m2 = Peft4j.newManager(); LlamaModel other = TinyModels.model(m2);
             PeftModel p2 = PeftModel.wrap(other)) {
            AdapterMismatchException e = assertThrows(AdapterMismatchException.class,
                    () -> p2.loadAdapter(tmp, "default"));
            assertTrue(e.getMessage().contains("missing base_model.model.model.layers.0.self_attn.k_proj.lora_A"
                    + ".weight"), e.getMessage());
            assertTrue(e.getMessage().contains("unexpected base_model.model.model.layers.0.self_attn.q_proj"),
                    e.getMessage());
        }
    }

    @Test
    void save_crashMidWrite_keepsPreviousAdapter() throws Exception {
        peft.addAdapter("default", LoraConfig.builder().optInitLoraWeights(InitLoraWeights.RANDOM).build(), 1L);
        peft.save(tmp);
        byte[] weights = Files.readAllBytes(tmp.resolve("adapter_model.safetensors"));
        byte[] config = Files.readAllBytes(tmp.resolve("adapter_config.json"));
        // an array that fails while the tensor data is being written (after the header and earlier tensors)
        peft.adapter("default").stateDict().get("model.layers.1.self_attn.v_proj.lora_B.weight").close();
        PeftException e = assertThrows(PeftException.class, () -> peft.save(tmp));
        assertTrue(e.getMessage().contains("previous files kept"), e.getMessage());
        assertArrayEquals(weights, Files.readAllBytes(tmp.resolve("adapter_model.safetensors")));
        assertArrayEquals(config, Files.readAllBytes(tmp.resolve("adapter_config.json")));
        try (var files = Files.list(tmp)) {
            assertEquals(2, files.count(), "no temp files left behind");
        }
    }

    /** Rewrites a safetensors file with an empty {@code __metadata__}, as PEFT writes it. */
    static void stripMetadata(Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        var header = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(
                new String(all, 8, (int) n, StandardCharsets.UTF_8));
        header.putObject("__metadata__").put("format", "pt");
        byte[] json = Json.MAPPER.writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + all.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(all, 8 + (int) n, all.length - 8 - (int) n);
        Files.write(file, out.array());
    }
}
