package io.peft4j.quant;

import java.util.Arrays;

/**
 * A weight in bitsandbytes' blockwise layout: the flattened row-major values cut into blocks of
 * {@code config.blockSize()} (the last block may be partial and has its own absmax), each value stored as a code
 * into {@code config.type().codebook()}. 4-bit codes are packed two per byte, the first element in the high nibble;
 * an odd element count is padded with the code of 0. Immutable by convention (arrays are not copied).
 *
 * <pre>{@code
 * QuantizedTensor q = Quantizer.quantize("q_proj.weight", w, new long[] {576, 576}, QuantConfig.nf4DoubleQuant());
 * float[] back = Quantizer.dequantize(q);   // fp32, bit-identical to bitsandbytes' dequantize_4bit
 * long bytes = q.storedBytes();
 * }</pre>
 *
 * @param name   tensor name, for messages
 * @param shape  logical shape, outermost first
 * @param config codec, block size and double quantization
 * @param data   {@code [ceil(numel / 2)]} packed 4-bit codes or {@code [numel]} 8-bit codes
 * @param absmax the per-block scales
 *
 * @since 0.1.0
 */
public record QuantizedTensor(String name, long[] shape, QuantConfig config, byte[] data, Absmax absmax) {

    public QuantizedTensor {
        if (name == null || shape == null || config == null || data == null || absmax == null) {
            throw new IllegalArgumentException("quantized tensor '" + name + "': no field may be null");
        }
        long n = numel(shape, name);
        long wantBytes = config.type().bits() == 4 ? (n + 1) / 2 : n;
        if (data.length != wantBytes) {
            throw new IllegalArgumentException("quantized tensor '" + name + "': " + Arrays.toString(shape) + " "
                    + config.type().bnbName() + " needs " + wantBytes + " code bytes, got " + data.length);
        }
        long blocks = (n + config.blockSize() - 1) / config.blockSize();
        if (absmax.blocks() != blocks) {
            throw new IllegalArgumentException("quantized tensor '" + name + "': " + n + " values in blocks of "
                    + config.blockSize() + " need " + blocks + " absmax values, got " + absmax.blocks());
        }
        if (config.doubleQuant() != (absmax instanceof Absmax.Nested)) {
            throw new IllegalArgumentException("quantized tensor '" + name + "': doubleQuant=" + config.doubleQuant()
                    + " but absmax is " + absmax);
        }
    }

    /** Number of logical elements. */
    public int numel() {
        return (int) numel(shape, name);
    }

    /** Bytes kept resident: codes plus scales (the 4-bit codebook itself is a shared constant and not counted). */
    public long storedBytes() {
        return data.length + absmax.storedBytes();
    }

    /** Stored bytes per logical element (0.5 + scales for 4-bit). */
    public double bytesPerParam() {
        return (double) storedBytes() / numel();
    }

    static long numel(long[] shape, String name) {
        long n = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("quantized tensor '" + name + "': bad shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("quantized tensor '" + name + "': " + n + " elements is too many");
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedTensor q && name.equals(q.name) && Arrays.equals(shape, q.shape)
                && config.equals(q.config) && Arrays.equals(data, q.data) && absmax.equals(q.absmax);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + absmax.hashCode();
    }

    @Override
    public String toString() {
        return "QuantizedTensor[" + name + " " + Arrays.toString(shape) + " " + config + "]";
    }
}
