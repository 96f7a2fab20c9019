package io.peft4j.core.checkpoint.gguf;

import java.util.Optional;

/**
 * The ggml tensor types a GGUF file can store ({@code enum ggml_type} in ggml.h), with their block geometry:
 * {@link #blockSize()} elements are packed into {@link #typeSize()} bytes. Types whose dequantization peft4j
 * implements report {@link #dequantizable()}; the others are recognised (so a file using them opens and can be
 * inspected) but reading such a tensor is refused.
 *
 * <pre>{@code
 * GgmlType t = GgmlType.fromId(3);            // Q4_1
 * long bytes = t.byteSize(576L * 1536);        // 32 elements per 20-byte block
 * boolean ok = t.dequantizable();              // true
 * }</pre>
 *
 * @since 0.1.0
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, true),
    Q3_K(11, 256, 110, true),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int typeSize;
    private final boolean dequantizable;

    GgmlType(int id, int blockSize, int typeSize, boolean dequantizable) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.dequantizable = dequantizable;
    }

    /** The on-disk id ({@code uint32_t type} of a tensor info). */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types, 32 for Q4_0..Q8_0, 256 for the K-quants). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** True when peft4j can dequantize this type to fp32. */
    public boolean dequantizable() {
        return dequantizable;
    }

    /**
     * Bytes taken by {@code elements} values; {@code elements} must be a multiple of the block size.
     *
     * @throws ArithmeticException on overflow
     * @throws IllegalArgumentException when {@code elements} is not a whole number of blocks
     */
    public long byteSize(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new IllegalArgumentException(this + ": " + elements + " elements is not a multiple of the block size "
                    + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) typeSize);
    }

    /** The type with on-disk id {@code id}, or empty when ggml has no such type (or peft4j does not know it). */
    public static Optional<GgmlType> fromId(long id) {
        if (id < 0 || id >= BY_ID.length || BY_ID[(int) id] == null) {
            return Optional.empty();
        }
        return Optional.of(BY_ID[(int) id]);
    }
}
