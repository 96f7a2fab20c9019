package io.peft4j.core.checkpoint.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real SmolLM2-135M-Instruct Q4_1 GGUF: opens, has the published shape, every tensor dequantizes to finite
 * values, and the dequantized + un-permuted tensors equal what Hugging Face transformers makes of the same file
 * ({@code scripts/interop/gguf_tensor_reference.py} → {@code interop/gguf_smollm2_tensors.json}).
 */
class GgufSmolLm2IT {

    @Test
    void smolLm2_loadsWholeModel_shapeConfigAndReferenceValues() throws Exception {
        Path model = TestResources.testModel();
        long t0 = System.nanoTime();
        Map<String, float[]> all = new LinkedHashMap<>();
        try (GgufTensorSource src = GgufTensorSource.open(model)) {
            for (String name : src.names()) {
                all.put(name, src.readFloats(name));
            }
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("GgufSmolLm2IT load_ms=" + loadMs + " (open + dequantize all " + all.size()
                    + " tensors to F32)");

            ModelConfig c = GgufModelConfig.from(src.file());
            assertEquals(30, c.numLayers());
            assertEquals(49152, c.vocabSize());
            assertEquals(576, c.hiddenSize());
            assertEquals(1536, c.intermediateSize());
            assertEquals(9, c.numHeads());
            assertEquals(3, c.numKvHeads());
            assertEquals(64, c.headDim());
            assertEquals(1e-5, c.rmsNormEps());
            assertEquals(100000.0, c.ropeTheta());
            assertTrue(c.tieWordEmbeddings());
            assertEquals(1, c.bosTokenId());
            assertEquals(2, c.eosTokenId());
            assertEquals(272, src.names().size());

            long params = 0;
            for (String name : src.names()) {
                long n = 1;
                for (long d : src.shape(name)) {
                    n *= d;
                }
                params += n;
                float[] w = all.get(name);
                assertEquals(n, w.length, name);
                for (int i = 0; i < w.length; i++) {
                    if (!Float.isFinite(w[i])) {
                        throw new AssertionError(name + "[" + i + "] = " + w[i]);
                    }
                }
            }
            System.out.println("GgufSmolLm2IT parameters=" + params);
            assertEquals(params, c.parameterCount());
            assertEquals(134_515_008L, params);
            compareWithTransformers(src, all);
            all.clear();
            loadAsNdArrays(src);
        }
    }

    /** Times {@link GgufTensorSource#load} of every tensor into FLOAT32 NDArrays (engine start-up excluded). */
    private static void loadAsNdArrays(GgufTensorSource src) throws Exception {
        try (NDManager m = Peft4j.newManager()) {
            m.zeros(new Shape(1)).close();
            long t0 = System.nanoTime();
            long elements = 0;
            for (String name : src.names()) {
                NDArray a = src.load(name, m);
                assertEquals(DataType.FLOAT32, a.getDataType());
                elements += a.size();
            }
            System.out.println("GgufSmolLm2IT load_ndarray_ms=" + (System.nanoTime() - t0) / 1_000_000
                    + " (all tensors as FLOAT32 NDArrays)");
            assertEquals(134_515_008L, elements);
        }
    }

    private static void compareWithTransformers(GgufTensorSource src, Map<String, float[]> all) throws Exception {
        JsonNode ref;
        try (InputStream in = GgufSmolLm2IT.class.getResourceAsStream("/interop/gguf_smollm2_tensors.json")) {
            assertNotNull(in, "interop/gguf_smollm2_tensors.json missing");
            ref = Json.MAPPER.readTree(in);
        }
        assertEquals(ref.get("parameters").asLong(), src.names().stream().mapToLong(n -> all.get(n).length).sum());
        for (Iterator<Map.Entry<String, JsonNode>> it = ref.get("tensors").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode t = e.getValue();
            float[] w = all.get(name);
            assertNotNull(w, "no tensor " + name);
            long[] shape = src.shape(name);
            assertArrayEquals(Json.MAPPER.convertValue(t.get("shape"), long[].class), shape, name);
            double sum = 0;
            double abs = 0;
            for (float v : w) {
                sum += v;
                abs += Math.abs(v);
            }
            assertEquals(t.get("sum").asDouble(), sum, 1e-6 * Math.max(1, Math.abs(sum)), name + " sum");
            assertEquals(t.get("abs_sum").asDouble(), abs, 1e-6 * Math.max(1, abs), name + " abs_sum");
            if (t.has("rows")) {
                int cols = (int) shape[1];
                for (Iterator<Map.Entry<String, JsonNode>> r = t.get("rows").fields(); r.hasNext(); ) {
                    Map.Entry<String, JsonNode> row = r.next();
                    int ri = Integer.parseInt(row.getKey());
                    for (int j = 0; j < row.getValue().size(); j++) {
                        assertEquals(row.getValue().get(j).asDouble(), w[ri * cols + j], 1e-6, name + "[" + ri
                                + "," + j + "]");
                    }
                    double rs = 0;
                    for (int j = 0; j < cols; j++) {
                        rs += w[ri * cols + j];
                    }
                    assertEquals(t.get("row_sums").get(row.getKey()).asDouble(), rs, 1e-6, name + " row " + ri);
                }
            } else {
                for (int j = 0; j < t.get("values").size(); j++) {
                    assertEquals(t.get("values").get(j).asDouble(), w[j], 1e-6, name + "[" + j + "]");
                }
            }
        }
    }
}
