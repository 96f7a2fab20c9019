package io.peft4j.quant;

import io.peft4j.quant.internal.Codebooks;

/**
 * The storage codes peft4j quantizes weights to, with the exact codebooks of bitsandbytes 0.50.
 * {@link #NF4} is QLoRA's 4-bit NormalFloat (Dettmers et al. 2023, arXiv 2305.14314), {@link #FP4} bitsandbytes'
 * 4-bit float (1 sign, 2 exponent, 1 mantissa bit), {@link #INT8} bitsandbytes' 8-bit blockwise dynamic map.
 *
 * <pre>{@code
 * QuantType t = QuantType.parse("nf4");
 * float[] codebook = t.codebook();   // 16 values for NF4/FP4, 256 for INT8
 * int bits = t.bits();               // 4 or 8
 * }</pre>
 *
 * @since 0.1.0
 */
public enum QuantType {
    /** 4-bit NormalFloat: 16 normal quantiles scaled to [-1, 1]. */
    NF4(4, "nf4"),
    /** 4-bit float of bitsandbytes, in bit-pattern order (index 0b1xxx is negative). */
    FP4(4, "fp4"),
    /** 8-bit blockwise with the signed dynamic-exponent map ({@code create_dynamic_map(signed=True)}). */
    INT8(8, "int8");

    private final int bits;
    private final String bnbName;

    QuantType(int bits, String bnbName) {
        this.bits = bits;
        this.bnbName = bnbName;
    }

    /** Bits per stored code: 4 (two codes per byte, first element in the high nibble) or 8. */
    public int bits() {
        return bits;
    }

    /** The name bitsandbytes and transformers use ({@code nf4}, {@code fp4}; {@code int8} for ours). */
    public String bnbName() {
        return bnbName;
    }

    /** A copy of the code-to-value table: index = stored code. */
    public float[] codebook() {
        return switch (this) {
            case NF4 -> Codebooks.nf4();
            case FP4 -> Codebooks.fp4();
            case INT8 -> Codebooks.dynamicSigned();
        };
    }

    /** {@code nf4}, {@code fp4} or {@code int8} (case-insensitive). */
    public static QuantType parse(String name) {
        for (QuantType t : values()) {
            if (t.bnbName.equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown quantization type '" + name + "' (supported: nf4, fp4, int8)");
    }
}
