package io.peft4j.quant.internal.kernel;

import io.peft4j.core.checkpoint.gguf.GgmlKernels;
import io.peft4j.core.checkpoint.gguf.GgmlType;

import java.nio.FloatBuffer;

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
     * GGUF Q4_0 / Q4_1 / Q8_0 weights repacked for the kernels: each block's codes without its halves, and the
     * halves widened to fp32 once. Per 32 weights that is 16 code bytes + 8 scale bytes for Q4_1 (24, against 20 in
     * the file plus 8 when the widened scales were kept beside the blocks), 16 + 4 for Q4_0 and 32 + 4 for Q8_0: the
     * kernels read less memory per token, and the arrays are the model's only copy of the weight.
     *
     * @param type   Q4_0, Q4_1 or Q8_0
     * @param codes  {@code [rows * cols / 32 * GgmlKernels.codeBytes(type)]}, row-major blocks
     *               ({@link GgmlKernels#blockCodes}: in a Q4 block element {@code j < 16} is the low nibble of byte
     *               {@code j} and element {@code j + 16} its high nibble; Q8_0 codes are signed bytes)
     * @param scales {@code [rows * cols / 32 * GgmlKernels.scalesPerBlock(type)]}: {@code d} per block, and
     *               {@code d, m} for Q4_1 ({@link GgmlKernels#blockScales})
     */
    record Ggml(GgmlType type, int rows, int cols, byte[] codes, float[] scales) implements QuantMatrix {
        /** Repacks {@code blocks} ({@code [rows * cols / 32 * type.typeSize()]} bytes as a GGUF file stores them). */
        public Ggml(GgmlType type, int rows, int cols, byte[] blocks) {
            this(type, rows, cols, GgmlKernels.blockCodes(type, blocks, 0, fileBlocks(type, rows, cols, blocks)),
                    GgmlKernels.blockScales(type, blocks, 0, fileBlocks(type, rows, cols, blocks)));
        }

        public Ggml {
            int blocks = blockCount(type, rows, cols);
            if (codes == null || codes.length != (long) blocks * GgmlKernels.codeBytes(type)) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] needs "
                        + (long) blocks * GgmlKernels.codeBytes(type) + " code bytes, got "
                        + (codes == null ? "none" : codes.length));
            }
            if (scales == null || scales.length != (long) blocks * GgmlKernels.scalesPerBlock(type)) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] needs "
                        + (long) blocks * GgmlKernels.scalesPerBlock(type) + " block scales, got "
                        + (scales == null ? "none" : scales.length));
            }
        }

        /** Blocks per row ({@code cols / 32}). */
        public int blocksPerRow() {
            return cols / 32;
        }

        /** Code bytes per block: 16 (Q4) or 32 (Q8_0). */
        public int codeBytes() {
            return GgmlKernels.codeBytes(type);
        }

        /** fp32 scales per block: 2 for Q4_1, else 1. */
        public int scalesPerBlock() {
            return GgmlKernels.scalesPerBlock(type);
        }

        /** Index of row {@code o}'s first code byte in {@link #codes}. */
        public int codeStart(int o) {
            return o * blocksPerRow() * codeBytes();
        }

        /** Index of row {@code o}'s first scale in {@link #scales}. */
        public int scaleStart(int o) {
            return o * blocksPerRow() * scalesPerBlock();
        }

        /**
         * The offset a code of the block whose scales start at {@code scales[s]} is decoded with as
         * {@code fma(q, d, offset)}: the min {@code m} for Q4_1, {@code -8d} for Q4_0 (exact, so the fused form equals
         * ggml's {@code (q - 8)·d}), 0 for Q8_0.
         */
        public float offset(int s) {
            if (type == GgmlType.Q4_1) { // compared by identity, not switched on (no ordinal table in the hot loop)
                return scales[s + 1];
            }
            return type == GgmlType.Q4_0 ? -8f * scales[s] : 0f;
        }

        /** Bytes held: codes and scales. */
        public long bytes() {
            return codes.length + 4L * scales.length;
        }

        /**
         * Row {@code o} in fp32 into {@code dst[off .. off + cols)} with ggml's formulas ({@code (q - 8)·d},
         * {@code q·d + m}, {@code q·d}), so the values equal its {@code dequantize_row_*} bit for bit.
         */
        public void decodeRow(int o, float[] dst, int off) {
            int nb = blocksPerRow();
            int cb = codeBytes();
            int per = scalesPerBlock();
            for (int b = 0; b < nb; b++) {
                int blk = o * nb + b;
                int p = blk * cb;
                float d = scales[blk * per];
                int y = off + 32 * b;
                switch (type) {
                    case Q8_0 -> {
                        for (int j = 0; j < 32; j++) {
                            dst[y + j] = codes[p + j] * d;
                        }
                    }
                    case Q4_1 -> {
                        float m = scales[blk * per + 1];
                        for (int j = 0; j < 16; j++) {
                            dst[y + j] = (codes[p + j] & 0x0F) * d + m;
                            dst[y + j + 16] = ((codes[p + j] >> 4) & 0x0F) * d + m;
                        }
                    }
                    default -> {
                        for (int j = 0; j < 16; j++) {
                            dst[y + j] = ((codes[p + j] & 0x0F) - 8) * d;
                            dst[y + j + 16] = (((codes[p + j] >> 4) & 0x0F) - 8) * d;
                        }
                    }
                }
            }
        }

        /** Every row in fp32 into {@code out[0 .. rows * cols)} ({@link #decodeRow}, one thread). */
        public void decodeAll(FloatBuffer out) {
            float[] row = new float[cols];
            for (int o = 0; o < rows; o++) {
                decodeRow(o, row, 0);
                out.put(o * cols, row);
            }
        }

        private static int blockCount(GgmlType type, int rows, int cols) {
            if (type != GgmlType.Q4_0 && type != GgmlType.Q4_1 && type != GgmlType.Q8_0) {
                throw new IllegalArgumentException("matrix-vector kernels read Q4_0, Q4_1 and Q8_0 blocks, not " + type);
            }
            if (rows <= 0 || cols <= 0 || cols % type.blockSize() != 0) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "]: columns must be a "
                        + "positive multiple of " + type.blockSize());
            }
            return Math.multiplyExact(rows, cols / type.blockSize());
        }

        private static int fileBlocks(GgmlType type, int rows, int cols, byte[] blocks) {
            int n = blockCount(type, rows, cols);
            long want = (long) n * type.typeSize();
            if (blocks == null || blocks.length != want) {
                throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] needs " + want
                        + " bytes, got " + (blocks == null ? "none" : blocks.length));
            }
            return n;
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
