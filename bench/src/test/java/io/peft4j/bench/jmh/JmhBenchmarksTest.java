package io.peft4j.bench.jmh;

import io.peft4j.quant.QuantType;
import io.peft4j.quant.Quantizer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JMH benchmarks measure what they say: each benchmark method, called once directly (no JMH run), computes
 * the same numbers as the reference path. Guards against a benchmark that times the wrong or an empty operation.
 */
class JmhBenchmarksTest {

    @Test
    void dequantKernels_nf4AndFp4_agreeWithReferenceDequantize() {
        for (QuantType type : new QuantType[] {QuantType.NF4, QuantType.FP4}) {
            DequantKernelBenchmark b = new DequantKernelBenchmark();
            b.rows = 64;
            b.cols = 192;
            b.type = type;
            b.setUp();
            try {
                float[] reference = Quantizer.dequantize(b.q);
                assertArrayEquals(reference, b.javaLoop(), 0f, type.name());
                assertEquals(reference[0], b.sharedBuffer(), 0f, type.name());
                assertEquals(reference[0], b.djlOps(), 1e-7f, type.name());
                assertArrayEquals(reference, b.arraycopy(), 0f, type.name());
                assertEquals(64 * 192 / 64, b.absmaxDecode().length, type.name());
            } finally {
                b.tearDown();
            }
        }
    }

    @Test
    void loraForward_mergedEqualsUnmergedAndDiffersFromBase() {
        LoraForwardBenchmark b = new LoraForwardBenchmark();
        b.tokens = 4;
        b.in = 32;
        b.out = 48;
        b.r = 4;
        b.setUp();
        try {
            float base = b.base();
            float unmerged = b.loraUnmerged();
            assertEquals(unmerged, b.loraMerged(), 1e-5f);
            assertTrue(Math.abs(unmerged - base) > 1e-6f, "the adapter changes the output: " + base + " vs "
                    + unmerged);
        } finally {
            b.tearDown();
        }
    }
}
