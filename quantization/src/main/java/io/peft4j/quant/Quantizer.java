package io.peft4j.quant;

import io.peft4j.quant.internal.Codebooks;
import io.peft4j.quant.internal.EightBitCodec;
import io.peft4j.quant.internal.FourBitCodec;
import io.peft4j.quant.internal.NestedStats;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * The pure-Java reference codec, bit-compatible with bitsandbytes 0.50 on CPU: {@code quantize_4bit} (NF4/FP4,
 * with {@code compress_statistics} for double quantization) and {@code quantize_blockwise} (INT8 with the dynamic
 * map), and their dequantization ({@code code[q] * absmax} in fp32). QLoRA: Dettmers et al., arXiv 2305.14314.
 * Stateless and thread-safe.
 *
 * <pre>{@code
 * QuantizedTensor q = Quantizer.quantize("w", values, new long[] {rows, cols}, QuantConfig.nf4DoubleQuant());
 * float[] approx = Quantizer.dequantize(q);
 * double bpp = q.bytesPerParam();   // ≈ 0.5 + 1/64 + 4/(64·256)
 * }</pre>
 *
 * @since 0.1.0
 */
public final class Quantizer {
    private static final Map<QuantType, FourBitCodec> FOUR_BIT = new EnumMap<>(QuantType.class);
    private static final EightBitCodec DYNAMIC_8BIT = new EightBitCodec(Codebooks.dynamicSigned());

    static {
        FOUR_BIT.put(QuantType.NF4, new FourBitCodec(QuantType.NF4));
        FOUR_BIT.put(QuantType.FP4, new FourBitCodec(QuantType.FP4));
    }

    private Quantizer() {
    }

    /**
     * Quantizes {@code values} (row-major, {@code shape}) with {@code config}.
     *
     * @throws IllegalArgumentException if a value is NaN or infinite (the message names the tensor and the index),
     *                                  or the shape does not match the number of values
     */
    public static QuantizedTensor quantize(String name, float[] values, long[] shape, QuantConfig config) {
        long n = QuantizedTensor.numel(shape, name);
        if (n != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds " + n
                    + " values, got " + values.length);
        }
        return quantizePrefix(name, values, shape, config);
    }

    /**
     * As {@link #quantize} over the first {@code numel(shape)} values of {@code values}, which may be longer (a
     * reused read buffer).
     *
     * @throws IllegalArgumentException if a value is NaN or infinite, or {@code values} is shorter than the shape
     */
    public static QuantizedTensor quantizePrefix(String name, float[] values, long[] shape, QuantConfig config) {
        long count = QuantizedTensor.numel(shape, name);
        if (count > values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + count + " values, got " + values.length);
        }
        int n = (int) count;
        requireFinite(name, values, n);
        QuantType type = config.type();
        byte[] data;
        float[] absmax;
        if (type.bits() == 4) {
            data = new byte[(n + 1) / 2];
            absmax = FOUR_BIT.get(type).quantize(values, n, config.blockSize(), data);
        } else {
            data = new byte[n];
            absmax = DYNAMIC_8BIT.quantize(values, n, config.blockSize(), data);
        }
        Absmax scales = config.doubleQuant()
                ? NestedStats.compress(absmax, config.nestedBlockSize(), DYNAMIC_8BIT, Codebooks.dynamicSigned())
                : new Absmax.Plain(absmax);
        return new QuantizedTensor(name, shape.clone(), config, data, scales);
    }

    /** The fp32 values {@code code[q] * absmax[block]}, row-major; the reference every fast path must equal. */
    public static float[] dequantize(QuantizedTensor q) {
        float[] out = new float[q.numel()];
        dequantizeInto(q, q.absmax().decode(), out);
        return out;
    }

    /** As {@link #dequantize} into {@code out [numel]} with the decoded absmax {@code [blocks]}. */
    public static void dequantizeInto(QuantizedTensor q, float[] absmax, float[] out) {
        float[] code = q.config().type().codebook();
        int bs = q.config().blockSize();
        byte[] data = q.data();
        int n = q.numel();
        if (q.config().type().bits() == 4) {
            for (int i = 0; i < n; i++) {
                int b = data[i >> 1] & 0xFF;
                int c = (i & 1) == 0 ? b >>> 4 : b & 0x0F;
                out[i] = code[c] * absmax[i / bs];
            }
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = code[data[i] & 0xFF] * absmax[i / bs];
            }
        }
    }

    private static void requireFinite(String name, float[] values, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException("tensor '" + name + "': cannot quantize a non-finite value ("
                        + values[i] + ") at flat index " + i);
            }
        }
    }
}
