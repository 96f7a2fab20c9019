package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.Json;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.pretrained.Peft4jModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link QuantizedLoading}: quantize-on-load and 4-bit folders through {@link Peft4jModel}'s builder. */
class QuantizedLoadingTest {
    private static final ModelConfig TINY = new ModelConfig("LlamaForCausalLM", "llama", 8, 64, 128, 2, 4, 2, 16,
            1e-5, 10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);

    @TempDir
    static Path tmp;
    private static Path dense;

    @BeforeAll
    static void writeDenseFolder() throws Exception {
        dense = Files.createDirectories(tmp.resolve("dense"));
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(TINY, 5, m)) {
            Map<String, NDArray> arrays = new LinkedHashMap<>(model.otherWeights());
            model.linearLayers().forEach((p, l) -> {
                if (!"lm_head".equals(p)) {
                    arrays.put(p + ".weight", l.denseWeight(m));
                }
            });
            SafetensorsWriter.writeArrays(dense.resolve("model.safetensors"), arrays, Map.of("format", "pt"));
        }
        Json.MAPPER.writeValue(dense.resolve("config.json").toFile(), TINY.toHfConfig());
        Files.writeString(dense.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"model\":{\"type\":\"WordLevel\","
                + "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7},"
                + "\"unk_token\":\"<unk>\"},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}");
    }

    @Test
    void optQuantization_nf4_quantizesEveryProjectionButLmHeadWithDoubleQuant() throws Exception {
        try (Peft4jModel model = Peft4jModel.builder().setPath(dense).optQuantization("NF4").build()) {
            int quantized = 0;
            for (Map.Entry<String, LinearLayer> e : model.base().linearLayers().entrySet()) {
                if (e.getKey().equals("lm_head")) {
                    continue;
                }
                QuantizedLinear q = assertInstanceOf(QuantizedLinear.class, e.getValue(), e.getKey());
                assertEquals(QuantConfig.nf4DoubleQuant(), q.quantizedWeight().config());
                quantized++;
            }
            assertEquals(2 * 7, quantized);
            assertEquals(6, model.generate("a b", io.peft4j.core.generate.GenerationConfig.builder()
                    .optMaxNewTokens(6).build()).strip().split("\\s+").length);
        }
    }

    @Test
    void setPath_fourBitFolder_loadsAsStoredAndRefusesAnotherType() throws Exception {
        Path nf4 = tmp.resolve("nf4");
        QuantizedCheckpoints.quantize(dense, nf4, QuantConfig.nf4DoubleQuant());
        try (Peft4jModel stored = Peft4jModel.builder().setPath(nf4).build();
             Peft4jModel onLoad = Peft4jModel.builder().setPath(dense).optQuantization("nf4").build();
             NDScope scope = new NDScope()) {
            assertInstanceOf(QuantizedLinear.class, stored.base().linearLayers().get("model.layers.1.mlp.down_proj"));
            NDArray ids = stored.base().manager().create(new long[] {1, 2, 3, 4, 5}).reshape(1, 5);
            assertArrayEquals(onLoad.peft().forward(ids, null, null).toFloatArray(),
                    stored.peft().forward(ids, null, null).toFloatArray(), 0f);
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> Peft4jModel.builder().setPath(nf4).optQuantization("fp4").build());
        assertTrue(e.getMessage().contains("already quantized to nf4"), e.getMessage());
    }

    @Test
    void optQuantization_unknownName_isRefusedAndNothingStaysOpen() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Peft4jModel.builder().setPath(dense).optQuantization("fp8").build());
        assertTrue(e.getMessage().contains("fp8"), e.getMessage());
        assertEquals(java.util.List.of("none", "nf4", "fp4", "int8"), new QuantizedLoading().names());
    }
}
