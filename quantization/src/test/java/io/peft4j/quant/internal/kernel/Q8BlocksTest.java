package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlKernels;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Q8Blocks} makes Q8_0 blocks as ggml's {@code quantize_row_q8_0_ref}: the block's largest magnitude maps to
 * ±127, every value decodes (through the reference decoder) within half a step, a zero block stays zero, and the
 * half scale is rounded to nearest even.
 */
class Q8BlocksTest {

    @Test
    void quantize_decodesWithinHalfAStep_extremesTo127() {
        Random rng = new Random(11);
        int blocks = 64;
        float[] x = new float[blocks * 32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(5) - 3));
        }
        java.util.Arrays.fill(x, 32, 64, 0f); // block 1: all zeros
        byte[] q = new byte[blocks * Q8Blocks.BYTES];
        Q8Blocks.quantize(x, 0, q, 0, blocks);
        float[] back = new float[x.length];
        GgmlKernels.dequantize(GgmlType.Q8_0, q, 0, back, 0, blocks);
        for (int b = 0; b < blocks; b++) {
            float amax = 0f;
            int argmax = 0;
            for (int j = 0; j < 32; j++) {
                if (Math.abs(x[b * 32 + j]) > amax) {
                    amax = Math.abs(x[b * 32 + j]);
                    argmax = j;
                }
            }
            if (amax == 0f) {
                for (int j = 0; j < 32; j++) {
                    assertEquals(0f, back[b * 32 + j]);
                }
                continue;
            }
            assertEquals(127, Math.abs(q[b * Q8Blocks.BYTES + 2 + argmax]), "block " + b);
            float step = amax / 127f;
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                // half a step, plus the half scale's relative rounding (2^-11) times up to 127 steps
                assertTrue(Math.abs(back[i] - x[i]) <= step * 0.5f + amax * 0x1p-11f + 1e-12f,
                        "value " + i + ": " + back[i] + " vs " + x[i]);
            }
        }
    }

    @Test
    void halfOf_roundsToNearestEven() {
        assertEquals((short) 0x3C00, Q8Blocks.halfOf(1f));
        assertEquals((short) 0x3C00, Q8Blocks.halfOf(1f + 0x1p-11f));            // tie, even stays
        assertEquals((short) 0x3C02, Q8Blocks.halfOf(1f + 3 * 0x1p-11f));        // tie, odd rounds up
        assertEquals((short) 0x0001, Q8Blocks.halfOf(0x1p-24f));                 // smallest subnormal
        assertEquals((short) 0x7C00, Q8Blocks.halfOf(70000f));                   // overflow
        assertEquals((short) 0xC000, Q8Blocks.halfOf(-2f));
    }
}
