package io.peft4j.quant.internal;

import io.peft4j.quant.Absmax;

/**
 * QLoRA's double quantization (arXiv 2305.14314 §3) as bitsandbytes does it: {@code offset = absmax.mean()}
 * (PyTorch's fp32 cascade sum / n), then {@code quantize_blockwise(absmax - offset)} with the 8-bit dynamic map.
 */
public final class NestedStats {
    private NestedStats() {
    }

    /** Compresses fp32 {@code absmax} into 8-bit codes in blocks of {@code nestedBlockSize}. */
    public static Absmax.Nested compress(float[] absmax, int nestedBlockSize, EightBitCodec codec, float[] code) {
        float offset = TorchOps.mean(absmax);
        float[] centered = new float[absmax.length];
        for (int i = 0; i < centered.length; i++) {
            centered[i] = absmax[i] - offset;
        }
        byte[] codes = new byte[absmax.length];
        float[] nested = codec.quantize(centered, nestedBlockSize, codes);
        return new Absmax.Nested(codes, nested, code, nestedBlockSize, offset);
    }
}
