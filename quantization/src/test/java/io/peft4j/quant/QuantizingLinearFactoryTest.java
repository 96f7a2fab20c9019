package io.peft4j.quant;

import io.peft4j.core.testing.MemoryTensorSource;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizingLinearFactoryTest {

    @Test
    void create_projection_quantizedLikeQuantizerAndLmHeadKeptFp32() throws Exception {
        float[] w = QuantizerTest.gaussian(16 * 64, 5);
        MemoryTensorSource src = new MemoryTensorSource()
                .put("model.layers.0.self_attn.q_proj.weight", w, 16, 64)
                .put("model.layers.0.self_attn.q_proj.bias", new float[16], 16)
                .put("lm_head.weight", w, 16, 64);
        QuantizingLinearFactory f = new QuantizingLinearFactory(QuantConfig.nf4DoubleQuant());
        try (NDManager m = Peft4j.newManager();
             LinearLayer q = f.create("model.layers.0.self_attn.q_proj", src, m);
             LinearLayer head = f.create("lm_head", src, m)) {
            QuantizedLinear ql = assertInstanceOf(QuantizedLinear.class, q);
            assertEquals(Quantizer.quantize("x", w, new long[] {16, 64}, QuantConfig.nf4DoubleQuant()).absmax(),
                    ql.quantizedWeight().absmax());
            assertEquals(new Shape(16), ql.bias().getShape());
            assertInstanceOf(DenseLinear.class, head);
            assertEquals(16 * 64, f.quantizedParameters());
            assertEquals(ql.quantizedWeight().storedBytes(), f.quantizedBytes());
        }
    }

    @Test
    void create_nanWeight_checkpointErrorNamesFileAndTensor() {
        float[] w = new float[64];
        w[9] = Float.NaN;
        MemoryTensorSource src = new MemoryTensorSource().put("model.layers.2.mlp.down_proj.weight", w, 2, 32);
        try (NDManager m = Peft4j.newManager()) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () ->
                    new QuantizingLinearFactory(QuantConfig.of(QuantType.FP4)).create("model.layers.2.mlp.down_proj",
                            src, m));
            assertTrue(e.getMessage().contains("memory.safetensors") && e.getMessage().contains("down_proj.weight")
                    && e.getMessage().contains("index 9"), e.getMessage());
        }
    }

    @Test
    void load_tinyLlama_quantizedModelEqualsDenseModelOnDequantizedWeights() throws Exception {
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 61, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, false, false, -1, -1);
        try (NDManager m = Peft4j.newManager(); LlamaModel fp32 = LlamaModel.random(c, 7, m)) {
            MemoryTensorSource src = new MemoryTensorSource();
            fp32.otherWeights().forEach(src::put);
            fp32.linearLayers().forEach((p, l) -> src.put(p + ".weight", l.denseWeight(m)));
            QuantizingLinearFactory nf4 = new QuantizingLinearFactory(QuantConfig.nf4DoubleQuant());
            try (LlamaModel q = LlamaModel.load(c, src, nf4, m); LlamaModel ref = LlamaModel.load(c, src, m)) {
                assertEquals(2 * 7, src.floatReads()); // one streamed fp32 read per quantized projection
                assertInstanceOf(DenseLinear.class, q.linearLayers().get("lm_head"));
                for (Map.Entry<String, LinearLayer> e : q.linearLayers().entrySet()) {
                    if (e.getValue() instanceof QuantizedLinear ql) {
                        ref.replaceLinear(e.getKey(), new DenseLinear(ql.denseWeight(m), null)).close();
                    }
                }
                NDArray ids = m.create(new int[] {1, 5, 9, 33, 60, 2}).reshape(1, 6);
                assertArrayEquals(ref.forward(ids, null, null).toFloatArray(), q.forward(ids, null, null).toFloatArray());
                float[] a = fp32.forward(ids, null, null).toFloatArray();
                float[] b = q.forward(ids, null, null).toFloatArray();
                assertTrue(relErr(a, b) < 0.25, "nf4 logits rel err " + relErr(a, b));
            }
        }
    }

    @Test
    void skipModules_custom_keepsNamedProjectionFp32() throws Exception {
        MemoryTensorSource src = new MemoryTensorSource().put("model.layers.0.mlp.gate_proj.weight", new float[64], 2, 32);
        QuantizingLinearFactory f = new QuantizingLinearFactory(QuantConfig.of(QuantType.INT8), Set.of("gate_proj"),
                QuantizedLinear.Kernel.DJL);
        try (NDManager m = Peft4j.newManager(); LinearLayer l = f.create("model.layers.0.mlp.gate_proj", src, m)) {
            assertInstanceOf(DenseLinear.class, l);
            assertEquals(0, f.bytesPerParam());
        }
    }

    private static double relErr(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (double) (a[i] - b[i]);
            den += a[i] * (double) a[i];
        }
        return Math.sqrt(num / den);
    }
}
