package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlKernels;
import io.peft4j.core.checkpoint.gguf.GgmlType;

/**
 * A frozen weight {@code W [rows, cols]} in its stored quantized form, as the matrix-vector kernels read it.
 * Arrays are shared, not copied: immutable by convention.
 *
 * <pre>{@code
 * QuantMatrix w = new QuantMatrix.Ggml(GgmlType.Q4_1, 1536, 576, blockBytes);
 * MatVec.multiply(w, x, 1, y);   // y [1, 1536] = x [1, 576] · Wᵀ
 * }</pre>
 */
public sealed interface QuantMatrix permits QuantMatrix.Ggml, QuantMatrix.FourBit {

    /** Output features (rows of W). */
    int rows();

    /** Input features (columns of W). */
    int cols();

    /**
     * GGUF blocks, row-major: each row is {@code cols / 32} consecutive blocks of {@code type}
     * ({@code block_q4_0 {half d; uint8 qs[16]}}, {@code block_q4_1 {half d; half m; uint8 qs[16]}},
     * {@code block_q8_0 {half d; int8 qs[32]}}; in a Q4 block element {@code j < 16} is the low nibble of
     * {@code qs[j]} and element {@code j + 16} its high nibble).
     *
     * @param type   Q4_0, Q4_1 or Q8_0
     * @param data   {@code [rows * cols / 32 * type.typeSize()]} block bytes
     * @param scales {@code [2 * rows * cols / 32]} each block's scales widened to fp32
     *               ({@link GgmlKernels#blockScales}), or null to widen them here from {@code data}: the SIMD
     *               kernel reads these instead of the halves in {@code data}, which the reference kernel and the
     *               dequantizer keep reading
     */
    record Ggml(GgmlType type, int rows, int cols, byte[] data, float[] scales) implements QuantMatrix {
        /** {@code data}'s blocks with their scales widened once here. */
        public Ggml(GgmlType type, int rows, int cols, byte[] data) {
            this(type, rows, cols, data, null);
        }

        public Ggml {
            if (type != GgmlType.Q4_0 && type != GgmlType.Q4_1 && type != GgmlType.Q8_0) {
                throw new IllegalArgumentException("matrix-vector kernels read Q4_0, Q4_1 and Q8_0 blocks, not " + type);
            }
            if (rows <= 0 || cols <= 0 || cols % type.blockSize() != 0) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "]: columns must be a "
                        + "positive multiple of " + type.blockSize());
            }
            long want = (long) rows * (cols / type.blockSize()) * type.typeSize();
            if (data == null || data.length != want) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] needs " + want
                        + " bytes, got " + (data == null ? "none" : data.length));
            }
            int blocks = rows * (cols / type.blockSize());
            if (scales == null) {
                scales = GgmlKernels.blockScales(type, data, 0, blocks);
            } else if (scales.length != 2L * blocks) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] needs " + 2L * blocks
                        + " block scales, got " + scales.length);
            }
        }

        /** Bytes of one row of blocks. */
        public int rowBytes() {
            return cols / type.blockSize() * type.typeSize();
        }
    }

    /**
     * bitsandbytes' 4-bit layout (NF4 / FP4): the flattened row-major values in blocks of {@code blockSize}, each a
     * code into {@code codebook}, packed two per byte with the first element in the high nibble.
     *
     * @param codebook  {@code [16]} code to value
     * @param blockSize elements per absmax block (a power of two, at least 32)
     * @param packed    {@code [ceil(rows * cols / 2)]} codes
     * @param absmax    {@code [ceil(rows * cols / blockSize)]} fp32 scale per block (decoded, double quant undone)
     */
    record FourBit(int rows, int cols, float[] codebook, int blockSize, byte[] packed, float[] absmax)
            implements QuantMatrix {
        public FourBit {
            if (rows <= 0 || cols <= 0 || codebook == null || codebook.length != 16 || blockSize < 2
                    || Integer.bitCount(blockSize) != 1) {
                throw new IllegalArgumentException("4-bit matrix [" + rows + ", " + cols + "] needs a 16-value "
                        + "codebook and a power-of-two block size, got " + blockSize);
            }
            long n = (long) rows * cols;
            if (packed == null || packed.length != (n + 1) / 2 || absmax == null
                    || absmax.length != (n + blockSize - 1) / blockSize) {
                throw new IllegalArgumentException("4-bit matrix [" + rows + ", " + cols + "] needs " + (n + 1) / 2
                        + " code bytes and " + (n + blockSize - 1) / blockSize + " absmax values");
            }
        }
    }
}
