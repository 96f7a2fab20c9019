package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.quant.internal.DjlDequantKernel;
import io.peft4j.quant.internal.JavaDequantKernel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Oracle tests: the DJL-op and the fast Java dequantization equal the scalar reference element for element. */
class DequantKernelOracleTest {

    @Test
    void djlAndJavaKernels_everyCodecAndShape_bitIdenticalToReference() {
        // {1025, 1025}: over 1M elements, so the Java kernel splits it over threads (odd count: a lone last nibble)
        long[][] shapes = {{64, 64}, {37, 51}, {3, 1}, {129, 129}, {8, 4096}, {1, 97}, {1025, 1025}};
        try (NDManager m = Peft4j.newManager()) {
            for (QuantizedTensor q : cases(shapes)) {
                float[] want = Quantizer.dequantize(q);
                float[] absmax = q.absmax().decode();

                float[] java = new float[q.numel()];
                JavaDequantKernel.dequantize(q, absmax, java);
                assertArrayEquals(want, java, q + " java kernel");

                try (NDArray shared = JavaDequantKernel.dequantizeShared(q, absmax, m)) {
                    assertArrayEquals(want, shared.toFloatArray(), q + " java kernel, direct buffer");
                }
                try (NDManager tmp = m.newSubManager()) {
                    NDArray w = DjlDequantKernel.dequantize(q, DjlDequantKernel.packedCodes(q, tmp),
                            DjlDequantKernel.lookupTable(q.config().type(), tmp), tmp.create(absmax));
                    assertArrayEquals(want, w.toFloatArray(), q + " djl kernel");
                }
            }
        }
    }

    private static List<QuantizedTensor> cases(long[][] shapes) {
        List<QuantizedTensor> out = new ArrayList<>();
        int seed = 0;
        for (long[] s : shapes) {
            float[] x = QuantizerTest.gaussian((int) (s[0] * s[1]), seed++);
            for (QuantType t : QuantType.values()) {
                for (int bs : new int[] {32, 64, 256}) {
                    out.add(Quantizer.quantize(t + "/" + bs, x, s, new QuantConfig(t, bs, (seed & 1) == 0)));
                }
            }
        }
        return out;
    }
}
