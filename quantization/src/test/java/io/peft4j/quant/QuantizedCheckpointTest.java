package io.peft4j.quant;

import io.peft4j.core.testing.MemoryTensorSource;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.CheckpointSummary;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Save/load of quantized checkpoints in the transformers + bitsandbytes 4-bit layout, on a tiny random LLaMA. */
class QuantizedCheckpointTest {
    static final ModelConfig TINY = new ModelConfig("LlamaForCausalLM", "llama", 61, 32, 48, 2, 4, 2, 8, 1e-5,
            10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);

    @TempDir
    Path tmp;

    @Test
    void save_nf4DoubleQuant_bnbKeysDtypesShapesAndStateJson() throws Exception {
        Path dir = saveTiny(QuantConfig.nf4DoubleQuant());
        try (SafetensorsReader st = SafetensorsReader.open(dir.resolve("model.safetensors"))) {
            String w = "model.layers.1.mlp.down_proj.weight"; // [32, 48]: 1536 values, 24 blocks, 1 nested block
            assertEquals("U8", st.dtype(w));
            assertArrayEquals(new long[] {768, 1}, st.shape(w));
            assertEquals("U8", st.dtype(w + ".absmax"));
            assertArrayEquals(new long[] {24}, st.shape(w + ".absmax"));
            assertArrayEquals(new long[] {1}, st.shape(w + ".nested_absmax"));
            assertArrayEquals(QuantType.NF4.codebook(), st.readFloats(w + ".quant_map"));
            assertArrayEquals(new long[] {256}, st.shape(w + ".nested_quant_map"));
            JsonNode state = Json.MAPPER.readTree(bytes(st.readFloats(w + ".quant_state.bitsandbytes__nf4")));
            assertEquals("nf4", state.get("quant_type").asText());
            assertEquals(64, state.get("blocksize").asInt());
            assertEquals("float32", state.get("dtype").asText());
            assertEquals("[32,48]", state.get("shape").toString());
            assertEquals(256, state.get("nested_blocksize").asInt());
            assertEquals("float32", state.get("nested_dtype").asText());
            assertTrue(state.get("nested_offset").asDouble() > 0);
            assertEquals("F32", st.dtype("model.embed_tokens.weight"));
            assertFalse(st.contains("lm_head.weight"), "tied lm_head is not written");
            assertEquals("pt", st.metadata().get("format"));
        }
        JsonNode q = Json.MAPPER.readTree(dir.resolve("config.json").toFile()).get("quantization_config");
        assertEquals("bitsandbytes", q.get("quant_method").asText());
        assertTrue(q.get("load_in_4bit").asBoolean());
        assertEquals("nf4", q.get("bnb_4bit_quant_type").asText());
        assertTrue(q.get("bnb_4bit_use_double_quant").asBoolean());
        assertEquals("float32", q.get("bnb_4bit_compute_dtype").asText());
    }

    @Test
    void roundTrip_eachType_reloadedModelGivesIdenticalLogitsWithoutRequantizing() throws Exception {
        for (QuantConfig cfg : new QuantConfig[] {QuantConfig.nf4DoubleQuant(), QuantConfig.of(QuantType.FP4),
                new QuantConfig(QuantType.INT8, 128, true), new QuantConfig(QuantType.NF4, 32, false)}) {
            try (NDManager m = Peft4j.newManager(); LlamaModel fp32 = LlamaModel.random(TINY, 3, m);
                 LlamaModel q = quantized(fp32, cfg, m)) {
                Path dir = tmp.resolve(cfg.type() + "-" + cfg.blockSize() + "-" + cfg.doubleQuant());
                QuantizedCheckpointWriter.Summary s = QuantizedCheckpointWriter.write(dir, q, tokenizer());
                assertEquals(cfg, s.config());
                try (Checkpoint ck = QuantizedCheckpoints.open(dir)) {
                    assertTrue(QuantizedCheckpoints.isQuantized(ck));
                    StoredQuantLinearFactory f = assertInstanceOf(StoredQuantLinearFactory.class,
                            QuantizedCheckpoints.linearFactory(ck, "none"));
                    try (LlamaModel back = LlamaModel.load(ck.config(), ck.tensors(), f, m)) {
                        for (String p : q.linearLayers().keySet()) {
                            if (q.linearLayers().get(p) instanceof QuantizedLinear a) {
                                QuantizedLinear b = assertInstanceOf(QuantizedLinear.class, back.linearLayers().get(p));
                                assertEquals(a.quantizedWeight().absmax(), b.quantizedWeight().absmax(), p);
                                assertArrayEquals(a.quantizedWeight().data(), b.quantizedWeight().data(), p);
                            }
                        }
                        NDArray ids = m.create(new int[] {1, 5, 9, 33, 60, 2}).reshape(1, 6);
                        assertArrayEquals(q.forward(ids, null, null).toFloatArray(),
                                back.forward(ids, null, null).toFloatArray(), cfg.toString());
                        assertEquals(s.quantizedParameters(), f.quantizedParameters());
                        assertEquals(s.quantizedBytes(), f.quantizedBytes());
                    }
                }
            }
        }
    }

    @Test
    void open_quantizedFolder_logicalViewDequantizesAndSummaryCountsStoredBytes() throws Exception {
        Path dir = saveTiny(QuantConfig.nf4DoubleQuant());
        String w = "model.layers.0.self_attn.q_proj.weight";
        try (Checkpoint ck = QuantizedCheckpoints.open(dir)) {
            QuantizedTensorSource t = assertInstanceOf(QuantizedTensorSource.class, ck.tensors());
            assertArrayEquals(new long[] {32, 32}, t.shape(w));
            assertEquals("NF4", t.dtype(w));
            assertFalse(t.names().contains(w + ".absmax"));
            QuantizedTensor q = t.quantized(w).orElseThrow();
            assertArrayEquals(Quantizer.dequantize(q), t.readFloats(w));
            CheckpointSummary s = CheckpointSummary.read(ck);
            assertEquals(TINY.parameterCount(), s.parameters());
            assertTrue(s.bytesPerParam() < 4.0 && s.bytesPerParam() > 0.5, "bytes/param " + s.bytesPerParam());
            // a dense load of the logical view is the dequantized model
            try (NDManager m = Peft4j.newManager();
                 LlamaModel dense = LlamaModel.load(ck.config(), t, DenseLinearFactory.INSTANCE, m)) {
                assertArrayEquals(Quantizer.dequantize(q),
                        dense.linearLayers().get("model.layers.0.self_attn.q_proj").denseWeight(m).toFloatArray());
            }
        }
        try (Checkpoint raw = Checkpoints.open(dir)) { // the core view opens too and shows the packed bytes
            assertEquals("U8", raw.tensors().dtype(w));
        }
    }

    @Test
    void linearFactory_conflictingTypeOnQuantizedFolder_refusedNamingBoth() throws Exception {
        Path dir = saveTiny(QuantConfig.nf4DoubleQuant());
        try (Checkpoint ck = QuantizedCheckpoints.open(dir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> QuantizedCheckpoints.linearFactory(ck, "fp4"));
            assertTrue(e.getMessage().contains("nf4") && e.getMessage().contains("fp4"), e.getMessage());
            assertInstanceOf(StoredQuantLinearFactory.class, QuantizedCheckpoints.linearFactory(ck, "nf4"));
        }
        assertSame(DenseLinearFactory.INSTANCE, QuantizingLinearFactory.forType("none"));
        assertEquals(QuantConfig.nf4DoubleQuant(),
                ((QuantizingLinearFactory) QuantizingLinearFactory.forType("NF4")).config());
        assertThrows(IllegalArgumentException.class, () -> QuantizingLinearFactory.forType("int4"));
    }

    @Test
    void load_malformedQuantState_errorNamesFileAndTensor() throws Exception {
        Path dir = saveTiny(QuantConfig.of(QuantType.FP4));
        Path file = dir.resolve("model.safetensors");
        String w = "model.layers.0.mlp.up_proj.weight";
        Map<String, TensorData> all = new LinkedHashMap<>();
        try (SafetensorsReader st = SafetensorsReader.open(file)) {
            for (String n : st.names()) {
                all.put(n, copy(st.data(n)));
            }
        }
        byte[] bad = "{\"quant_type\": \"fp4\", \"dtype\": \"float32\", \"shape\": [48, 32]}"
                .getBytes(StandardCharsets.UTF_8);
        all.put(w + ".quant_state.bitsandbytes__fp4", TensorData.ofBytes("U8", bad, bad.length));
        SafetensorsWriter.write(file, all, Map.of("format", "pt"));
        try (Checkpoint ck = QuantizedCheckpoints.open(dir); NDManager m = Peft4j.newManager()) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> LlamaModel.load(ck.config(), ck.tensors(), QuantizedCheckpoints.linearFactory(ck, null), m));
            assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains(w)
                    && e.getMessage().contains("blocksize"), e.getMessage());
        }
    }

    private Path saveTiny(QuantConfig cfg) throws Exception {
        Path dir = tmp.resolve("tiny-" + cfg.type());
        try (NDManager m = Peft4j.newManager(); LlamaModel fp32 = LlamaModel.random(TINY, 3, m);
             LlamaModel q = quantized(fp32, cfg, m)) {
            QuantizedCheckpointWriter.write(dir, q, tokenizer());
        }
        return dir;
    }

    /** {@code fp32} loaded through a quantizing factory (lm_head tied, so it stays the embedding). */
    static LlamaModel quantized(LlamaModel fp32, QuantConfig cfg, NDManager m) throws CheckpointFormatException {
        MemoryTensorSource src = new MemoryTensorSource();
        fp32.otherWeights().forEach(src::put);
        fp32.linearLayers().forEach((p, l) -> src.put(p + ".weight", l.denseWeight(m)));
        return LlamaModel.load(fp32.config(), src, new QuantizingLinearFactory(cfg), m);
    }

    private Tokenizer tokenizer() throws Exception {
        Path tok = tmp.resolve("tok");
        Files.createDirectories(tok);
        Files.writeString(tok.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"model\":{\"type\":\"WordLevel\","
                + "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2},\"unk_token\":\"<unk>\"},"
                + "\"pre_tokenizer\":{\"type\":\"Whitespace\"}}");
        return HfTokenizer.load(tok);
    }

    private static TensorData copy(TensorData d) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(d.data().remaining());
        b.put(d.data()).flip();
        return new TensorData(d.dtype(), d.shape(), b);
    }

    private static byte[] bytes(float[] widened) {
        byte[] out = new byte[widened.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (int) widened[i];
        }
        return out;
    }
}
