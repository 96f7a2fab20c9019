package io.peft4j.quant.internal;

import org.apache.commons.math3.distribution.NormalDistribution;

import java.util.Arrays;

/**
 * The code tables of bitsandbytes 0.50: NF4 ({@code get_4bit_type("nf4")}), FP4 ({@code get_4bit_type("fp4")},
 * bit-pattern order) and the signed 8-bit dynamic map ({@code create_dynamic_map(signed=True)}), plus QLoRA's
 * derivation of NF4 from normal quantiles ({@code create_normal_map(offset=0.9677083, use_extra_value=True)}),
 * QLoRA arXiv 2305.14314 §3. All arithmetic follows the Python source step by step in fp32 where PyTorch uses fp32.
 */
public final class Codebooks {
    /** QLoRA's outermost quantile for NF4. */
    public static final double NF4_OFFSET = 0.9677083;

    private static final float[] NF4 = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };
    /** bitsandbytes' FP4 values before normalisation, bit patterns 0b0000..0b1111 (Python's {@code -0} is the int 0, so 0b1000 is +0.0). */
    private static final float[] FP4_RAW = {
        0f, 0.0625f, 8.0f, 12.0f, 4.0f, 6.0f, 2.0f, 3.0f, 0f, -0.0625f, -8.0f, -12.0f, -4.0f, -6.0f, -2.0f, -3.0f,
    };
    private static final float[] FP4 = normalise(FP4_RAW);
    private static final float[] DYNAMIC = createDynamicMap();

    private Codebooks() {
    }

    public static float[] nf4() {
        return NF4.clone();
    }

    public static float[] fp4() {
        return FP4.clone();
    }

    public static float[] dynamicSigned() {
        return DYNAMIC.clone();
    }

    /** {@code data.div_(data.abs().max())} in fp32. */
    private static float[] normalise(float[] raw) {
        float max = 0f;
        for (float v : raw) {
            max = Math.max(max, Math.abs(v));
        }
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = raw[i] / max;
        }
        return out;
    }

    /**
     * QLoRA's NF4 derivation: {@code norm.ppf} at {@code torch.linspace(offset, 0.5, 9)[:-1]} (positive side, 8 values)
     * and {@code -norm.ppf(torch.linspace(offset, 0.5, 8)[:-1])} (negative side, 7 values), zero, sorted, divided by
     * the maximum. Returns the 16 distinct values (bitsandbytes pads the table to 256 with zeros).
     */
    public static float[] createNormalMap(double offset) {
        NormalDistribution normal = new NormalDistribution(0.0, 1.0);
        float[] pos = TorchOps.linspace((float) offset, 0.5f, 9);
        float[] neg = TorchOps.linspace((float) offset, 0.5f, 8);
        float[] v = new float[16];
        for (int i = 0; i < 8; i++) {
            v[i] = (float) normal.inverseCumulativeProbability(pos[i]);
        }
        for (int i = 0; i < 7; i++) {
            v[8 + i] = (float) -normal.inverseCumulativeProbability(neg[i]);
        }
        v[15] = 0f;
        Arrays.sort(v);
        float max = v[15];
        for (int i = 0; i < 16; i++) {
            v[i] = v[i] / max;
        }
        return v;
    }

    /**
     * {@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)}: for exponent i in 0..6, the
     * midpoints of {@code linspace(0.1, 1, 2^i + 1)} scaled by {@code ±10^(i-6)}, plus 0 and 1, sorted (256 values).
     */
    static float[] createDynamicMap() {
        float[] data = new float[256];
        int k = 0;
        for (int i = 0; i < 7; i++) {
            int items = (1 << i) + 1;
            float[] bounds = TorchOps.linspace(0.1f, 1f, items);
            float scale = (float) Math.pow(10, -6 + i);
            if (i == 6) {
                scale = 1f;
            }
            for (int j = 0; j < items - 1; j++) {
                float mean = (bounds[j] + bounds[j + 1]) / 2.0f;
                data[k++] = scale * mean;
                data[k++] = -scale * mean;
            }
        }
        data[k++] = 0f;
        data[k++] = 1.0f;
        if (k != 256) {
            throw new IllegalStateException("dynamic map has " + k + " values");
        }
        Arrays.sort(data);
        return data;
    }
}
