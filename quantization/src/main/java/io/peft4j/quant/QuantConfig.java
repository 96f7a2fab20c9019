package io.peft4j.quant;

/**
 * How to quantize a weight: the code type, the block size (one fp32 absmax per block) and whether the absmax
 * values are quantized again (QLoRA's double quantization, arXiv 2305.14314 §3). Immutable; derive variants with
 * the {@code withX} methods.
 *
 * <pre>{@code
 * QuantConfig qlora = QuantConfig.nf4DoubleQuant();            // nf4, block 64, double quant
 * QuantConfig fp4 = qlora.withType(QuantType.FP4).withDoubleQuant(false);
 * QuantizedTensor q = Quantizer.quantize("w", values, new long[] {out, in}, fp4);
 * }</pre>
 *
 * @param type        code type
 * @param blockSize   elements per absmax block: a power of two in 32..4096 (bitsandbytes' accepted sizes)
 * @param doubleQuant quantize the absmax values to 8 bits in blocks of 256 ({@link #NESTED_BLOCK_SIZE})
 *
 * @since 0.1.0
 */
public record QuantConfig(QuantType type, int blockSize, boolean doubleQuant) {
    /** bitsandbytes' and QLoRA's default block size. */
    public static final int DEFAULT_BLOCK_SIZE = 64;
    /** Block size of the second-level (nested) quantization of the absmax values in 4-bit double quantization. */
    public static final int NESTED_BLOCK_SIZE = 256;

    public QuantConfig {
        if (type == null) {
            throw new IllegalArgumentException("type must not be null");
        }
        if (blockSize < 32 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("blockSize must be a power of two in 32..4096, got " + blockSize);
        }
    }

    /** The QLoRA recipe: NF4, block 64, double quantization. */
    public static QuantConfig nf4DoubleQuant() {
        return new QuantConfig(QuantType.NF4, DEFAULT_BLOCK_SIZE, true);
    }

    /** {@code type} at block 64 without double quantization. */
    public static QuantConfig of(QuantType type) {
        return new QuantConfig(type, DEFAULT_BLOCK_SIZE, false);
    }

    public QuantConfig withType(QuantType t) {
        return new QuantConfig(t, blockSize, doubleQuant);
    }

    public QuantConfig withBlockSize(int b) {
        return new QuantConfig(type, b, doubleQuant);
    }

    public QuantConfig withDoubleQuant(boolean d) {
        return new QuantConfig(type, blockSize, d);
    }

    /**
     * Block size used for the nested absmax quantization: 256 for 4-bit types (bitsandbytes' {@code quantize_4bit}
     * with {@code compress_statistics=True}); the outer block size for INT8 (as bitsandbytes'
     * {@code quantize_blockwise(nested=True)}).
     */
    public int nestedBlockSize() {
        return type.bits() == 4 ? NESTED_BLOCK_SIZE : blockSize;
    }
}
