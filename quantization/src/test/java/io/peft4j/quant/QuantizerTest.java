package io.peft4j.quant;

import io.peft4j.quant.internal.Codebooks;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizerTest {

    @Test
    void createNormalMap_qloraRecipe_equalsBitsandbytesNf4Table() {
        float[] derived = Codebooks.createNormalMap(Codebooks.NF4_OFFSET);
        assertArrayEquals(QuantType.NF4.codebook(), derived);
    }

    @Test
    void quantize_nf4_firstElementInHighNibble() {
        // values chosen to hit codes exactly: absmax 1, then -1 (code 0), 0 (code 7), 1 (code 15)
        float[] x = new float[64];
        x[0] = 1f;
        x[1] = -1f;
        x[2] = 0f;
        x[3] = 0.0795803f; // NF4 code 8
        QuantizedTensor q = Quantizer.quantize("w", x, new long[] {64}, QuantConfig.of(QuantType.NF4));
        assertEquals((byte) 0xF0, q.data()[0]);
        assertEquals((byte) 0x78, q.data()[1]);
        assertEquals((byte) 0x77, q.data()[2]);
    }

    @Test
    void quantize_oddCountAndPartialBlock_lastBlockOwnAbsmaxAndPaddedNibble() {
        float[] x = new float[67];
        for (int i = 0; i < 64; i++) {
            x[i] = 0.5f;
        }
        x[64] = 2f;
        x[65] = -2f;
        x[66] = 1f;
        QuantizedTensor q = Quantizer.quantize("w", x, new long[] {67}, QuantConfig.of(QuantType.NF4));
        assertEquals(34, q.data().length);
        assertArrayEquals(new float[] {0.5f, 2f}, ((Absmax.Plain) q.absmax()).values());
        assertEquals((byte) 0xF0, q.data()[32]);
        // element 66 (1.0 / 2.0 = 0.5, below the 0.4407/0.5626 midpoint -> code 12) high, padding (0 -> code 7) low
        assertEquals((byte) 0xC7, q.data()[33]);
        float[] back = Quantizer.dequantize(q);
        assertEquals(67, back.length);
        assertEquals(2f, back[64]);
        assertEquals(-2f, back[65]);
    }

    @Test
    void quantize_everyCodec_errorWithinHalfCodebookStep() {
        float[] x = gaussian(4096 + 33, 7);
        for (QuantType t : QuantType.values()) {
            for (boolean dq : new boolean[] {false, true}) {
                QuantizedTensor q = Quantizer.quantize("w", x, new long[] {x.length}, new QuantConfig(t, 64, dq));
                float[] back = Quantizer.dequantize(q);
                float[] am = q.absmax().decode();
                float maxGap = t == QuantType.INT8 ? 0.1f : t == QuantType.NF4 ? 0.33f : 0.34f;
                for (int i = 0; i < x.length; i++) {
                    float bound = am[i / 64] * maxGap / 2 + Math.abs(x[i]) * (dq ? 0.02f : 0f) + 1e-6f;
                    assertTrue(Math.abs(back[i] - x[i]) <= bound, t + " dq=" + dq + " index " + i);
                }
            }
        }
    }

    @Test
    void rmse_nf4BelowFp4OnGaussianWeights() {
        float[] x = gaussian(64 * 512, 11);
        double nf4 = rmse(x, QuantConfig.of(QuantType.NF4));
        double fp4 = rmse(x, QuantConfig.of(QuantType.FP4));
        double int8 = rmse(x, QuantConfig.of(QuantType.INT8));
        assertTrue(nf4 < fp4, "nf4 " + nf4 + " fp4 " + fp4);
        assertTrue(int8 < nf4, "int8 " + int8 + " nf4 " + nf4);
    }

    @Test
    void storedBytes_nf4DoubleQuantBlock64_atMost052BytesPerParam() {
        float[] x = gaussian(1024 * 1024, 3);
        QuantizedTensor q = Quantizer.quantize("w", x, new long[] {1024, 1024}, QuantConfig.nf4DoubleQuant());
        // 0.5 (codes) + 1/64 (8-bit absmax) + 4/(64*256) (fp32 nested absmax) + map/offset ≈ 0.5159
        assertTrue(q.bytesPerParam() <= 0.52, "bytes/param " + q.bytesPerParam());
        // QLoRA's 4.127 bits = codes + 8-bit absmax + fp32 nested absmax; the per-tensor 256-entry map and offset
        // (1028 bytes) come on top
        long qloraBytes = q.storedBytes() - 4 * 256 - 4;
        assertEquals(4.127, qloraBytes * 8.0 / q.numel(), 1e-3);
        QuantizedTensor plain = Quantizer.quantize("w", x, new long[] {1024, 1024}, QuantConfig.of(QuantType.NF4));
        assertEquals(0.5 + 4.0 / 64, plain.bytesPerParam(), 1e-9);
    }

    @Test
    void quantize_nanOrInf_errorNamesTensorAndIndex() {
        float[] x = new float[128];
        x[77] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize("model.layers.3.mlp.up_proj.weight", x, new long[] {2, 64},
                        QuantConfig.nf4DoubleQuant()));
        assertTrue(e.getMessage().contains("model.layers.3.mlp.up_proj.weight") && e.getMessage().contains("77"),
                e.getMessage());
        x[77] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize("w", x, new long[] {128},
                QuantConfig.of(QuantType.INT8)));
    }

    @Test
    void quantState_malformed_clearErrors() {
        QuantConfig cfg = QuantConfig.of(QuantType.NF4);
        IllegalArgumentException wrongCodes = assertThrows(IllegalArgumentException.class,
                () -> new QuantizedTensor("w", new long[] {128}, cfg, new byte[63], new Absmax.Plain(new float[2])));
        assertTrue(wrongCodes.getMessage().contains("64 code bytes"), wrongCodes.getMessage());
        IllegalArgumentException wrongBlocks = assertThrows(IllegalArgumentException.class,
                () -> new QuantizedTensor("w", new long[] {128}, cfg, new byte[64], new Absmax.Plain(new float[3])));
        assertTrue(wrongBlocks.getMessage().contains("need 2 absmax"), wrongBlocks.getMessage());
        IllegalArgumentException nested = assertThrows(IllegalArgumentException.class,
                () -> new Absmax.Nested(new byte[300], new float[1], new float[256], 256, 0f));
        assertTrue(nested.getMessage().contains("must hold 2"), nested.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Absmax.Nested(new byte[3], new float[1], new float[16],
                256, 0f));
        assertThrows(IllegalArgumentException.class, () -> new QuantizedTensor("w", new long[] {128},
                cfg.withDoubleQuant(true), new byte[64], new Absmax.Plain(new float[2])));
    }

    @Test
    void quantConfig_badBlockSizeOrType_rejected() {
        assertThrows(IllegalArgumentException.class, () -> QuantConfig.nf4DoubleQuant().withBlockSize(48));
        assertThrows(IllegalArgumentException.class, () -> QuantConfig.nf4DoubleQuant().withBlockSize(8192));
        assertThrows(IllegalArgumentException.class, () -> QuantType.parse("int4"));
        assertEquals(QuantType.FP4, QuantType.parse("FP4"));
        assertEquals(256, QuantConfig.nf4DoubleQuant().nestedBlockSize());
    }

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 0.02);
        }
        return x;
    }

    private static double rmse(float[] x, QuantConfig cfg) {
        float[] back = Quantizer.dequantize(Quantizer.quantize("w", x, new long[] {x.length}, cfg));
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (back[i] - x[i]) * (double) (back[i] - x[i]);
        }
        return Math.sqrt(s / x.length);
    }
}
