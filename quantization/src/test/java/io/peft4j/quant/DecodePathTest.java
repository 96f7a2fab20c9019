package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decode path of the quantized layers ({@link GgmlBlockLinear}, 4-bit {@link QuantizedLinear}): inside an
 * inference region a forward on few rows (SIMD kernel from the stored codes) equals the dequantize + libtorch path
 * within fp32 reordering error, bias included; more rows than the crossover, or a forward outside inference,
 * take the libtorch path.
 */
class DecodePathTest {
    /** |decode - libtorch| ≤ TOL · max|y| + 1e-6: both are fp32 sums of the same exact products in other orders. */
    private static final float TOL = 1e-5f;

    @Test
    void ggmlBlockLinear_fewRowsAtInference_matchesLibtorchPath() {
        Random rng = new Random(7);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0}) {
            try (NDManager m = Peft4j.newManager()) {
                int out = 70;
                int in = 192;
                NDArray bias = m.create(gaussian(rng, out), new Shape(out));
                GgmlBlockLinear layer = new GgmlBlockLinear("w", type, new long[] {out, in}, blocks(type, out, in, rng),
                        bias);
                for (int rows : new int[] {1, 4}) {
                    NDArray x = m.create(gaussian(rng, rows * in), new Shape(1, rows, in));
                    NDArray reference = Linear.linear(x, layer.denseWeight(m), bias).singletonOrThrow();
                    NDArray decoded;
                    try (Inference.Scope s = Inference.enter()) {
                        decoded = layer.forward(x);
                    }
                    assertEquals(new Shape(1, rows, out), decoded.getShape());
                    assertClose(reference.toFloatArray(), decoded.toFloatArray(), type + " rows " + rows);
                    // outside inference (training): the libtorch path, same weights bit for bit
                    assertClose(reference.toFloatArray(), layer.forward(x).toFloatArray(), type + " training");
                }
                layer.close();
            }
        }
    }

    @Test
    void quantizedLinear_fourBitDecode_matchesLibtorchPath() {
        Random rng = new Random(8);
        for (QuantConfig config : new QuantConfig[] {QuantConfig.nf4DoubleQuant(), QuantConfig.of(QuantType.FP4)}) {
            try (NDManager m = Peft4j.newManager()) {
                int out = 48;
                int in = 128;
                QuantizedTensor q = Quantizer.quantize("w", gaussian(rng, out * in), new long[] {out, in}, config);
                QuantizedLinear layer = new QuantizedLinear(q, m.create(gaussian(rng, out), new Shape(out)));
                long before = layer.storedBytes();
                NDArray x = m.create(gaussian(rng, 3 * in), new Shape(3, in));
                float[] reference = layer.forward(x).toFloatArray();
                try (Inference.Scope s = Inference.enter()) {
                    assertClose(reference, layer.forward(x).toFloatArray(), config.toString());
                    // more rows than the crossover: the libtorch path (bit-identical to the reference)
                    NDArray big = x.tile(new long[] {20, 1});
                    float[] many = layer.forward(big).toFloatArray();
                    assertEquals(reference[5], many[5], 1e-5f * Math.abs(reference[5]));
                }
                // the decoded absmax the kernel keeps is counted
                assertEquals(before + 4L * (out * in / 64), layer.storedBytes());
                layer.close();
            }
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        float max = 0f;
        for (float v : want) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= TOL * max + 1e-6f, what + " [" + i + "]: " + got[i] + " vs "
                    + want[i]);
        }
    }

    static byte[] blocks(GgmlType type, int rows, int cols, Random rng) {
        int nb = rows * cols / 32;
        byte[] data = new byte[nb * type.typeSize()];
        rng.nextBytes(data);
        for (int b = 0; b < nb; b++) {
            int p = b * type.typeSize();
            put(data, p, 0x1C00 | rng.nextInt(0x1000)); // scale in [2^-8, 2^-6)
            if (type == GgmlType.Q4_1) {
                put(data, p + 2, 0xA400 | rng.nextInt(0x0C00)); // min in (-2^-3, -2^-6]
            }
        }
        return data;
    }

    /** Stores the half with bit pattern {@code h} little-endian. */
    private static void put(byte[] d, int p, int h) {
        d[p] = (byte) h;
        d[p + 1] = (byte) (h >> 8);
    }

    private static float[] gaussian(Random rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }
}
