package io.peft4j.quant;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizedLinearTest {

    @Test
    void forward_bothKernels_equalDenseLayerOnDequantizedWeight() {
        try (NDManager m = Peft4j.newManager()) {
            QuantizedTensor w = Quantizer.quantize("w", QuantizerTest.gaussian(48 * 96, 1), new long[] {48, 96},
                    QuantConfig.nf4DoubleQuant());
            NDArray x = m.randomNormal(new Shape(2, 5, 96));
            NDArray b = m.randomNormal(new Shape(48));
            try (DenseLinear dense = new DenseLinear(m.create(Quantizer.dequantize(w), new Shape(48, 96)), b.duplicate());
                 QuantizedLinear java = new QuantizedLinear(w, b.duplicate(), QuantizedLinear.Kernel.JAVA);
                 QuantizedLinear djl = new QuantizedLinear(w, b.duplicate(), QuantizedLinear.Kernel.DJL)) {
                float[] want = dense.forward(x).toFloatArray();
                assertArrayEquals(want, java.forward(x).toFloatArray());
                assertArrayEquals(want, djl.forward(x).toFloatArray());
                try (Inference.Scope inference = Inference.enter()) {
                    // 10 rows at inference: the decode kernel from the codes, equal within fp32 reordering error
                    // (DecodePathTest); 40 rows: the shared scratch weight + libtorch, bit for bit
                    assertArrayEquals(want, java.forward(x).toFloatArray(), 1e-4f);
                    NDArray x4 = x.tile(new long[] {4, 1, 1});
                    float[] big = java.forward(x4).toFloatArray();
                    assertArrayEquals(dense.forward(x4).toFloatArray(), big);
                    assertArrayEquals(big, java.forward(x4.mul(1f)).toFloatArray());
                }
                assertEquals(new Shape(2, 5, 48), java.forward(x).getShape());
                assertTrue(java.trainableParameters().isEmpty());
                assertEquals(96, java.inFeatures());
                assertEquals(48, java.outFeatures());
                assertArrayEquals(Quantizer.dequantize(w), java.denseWeight(m).toFloatArray());
            }
        }
    }

    @Test
    void storedBytes_nf4DoubleQuant_packedCodesAndScalesOnly() {
        QuantizedTensor w = Quantizer.quantize("w", QuantizerTest.gaussian(512 * 512, 2), new long[] {512, 512},
                QuantConfig.nf4DoubleQuant());
        try (QuantizedLinear layer = new QuantizedLinear(w, null)) {
            long fp32 = 4L * 512 * 512;
            assertEquals(w.storedBytes(), layer.storedBytes());
            assertTrue(layer.storedBytes() <= 0.52 * 512 * 512, "stored " + layer.storedBytes());
            assertTrue(layer.storedBytes() < fp32 / 7, "stored " + layer.storedBytes() + " vs fp32 " + fp32);
        }
    }

    @Test
    void backward_twoStackedLayersInCollector_inputGradientUsesEachLayersOwnWeight() {
        try (NDManager m = Peft4j.newManager()) {
            QuantizedTensor w1 = Quantizer.quantize("w1", QuantizerTest.gaussian(32 * 16, 3), new long[] {32, 16},
                    QuantConfig.nf4DoubleQuant());
            QuantizedTensor w2 = Quantizer.quantize("w2", QuantizerTest.gaussian(8 * 32, 4), new long[] {8, 32},
                    QuantConfig.of(QuantType.FP4));
            NDArray d1 = m.create(Quantizer.dequantize(w1), new Shape(32, 16));
            NDArray d2 = m.create(Quantizer.dequantize(w2), new Shape(8, 32));
            NDArray x = m.randomNormal(new Shape(3, 16));
            x.setRequiresGradient(true);
            try (QuantizedLinear l1 = new QuantizedLinear(w1, null); QuantizedLinear l2 = new QuantizedLinear(w2, null)) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(l2.forward(l1.forward(x)).sum());
                }
                // d/dx sum(x W1ᵀ W2ᵀ) = 1·W2·W1 for every row
                float[] want = m.ones(new Shape(3, 8)).matMul(d2).matMul(d1).toFloatArray();
                float[] got = x.getGradient().toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-5f * (1 + Math.abs(want[i])), "grad " + i);
                }
            }
        }
    }

    @Test
    void constructor_notMatrixOrBadBias_rejected() {
        QuantizedTensor v = Quantizer.quantize("v", new float[64], new long[] {64}, QuantConfig.of(QuantType.NF4));
        assertThrows(IllegalArgumentException.class, () -> new QuantizedLinear(v, null));
        QuantizedTensor w = Quantizer.quantize("w", new float[64], new long[] {4, 16}, QuantConfig.of(QuantType.NF4));
        try (NDManager m = Peft4j.newManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new QuantizedLinear(w, m.zeros(new Shape(5))));
            assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        }
    }
}
