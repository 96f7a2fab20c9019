package io.peft4j.quant;

import java.util.Arrays;

/**
 * The per-block scales of a quantized tensor: either plain fp32 absmax values or, with double quantization
 * (QLoRA, arXiv 2305.14314 §3), 8-bit codes of {@code absmax - offset} with their own fp32 absmax per nested block.
 * Records are immutable by convention: the arrays are not copied, so callers must not change them.
 *
 * <pre>{@code
 * Absmax scales = quantized.absmax();
 * float[] perBlock = scales.decode();       // fp32 absmax, one per block, as bitsandbytes computes it
 * long bytes = scales.storedBytes();
 * }</pre>
 *
 * @since 0.1.0
 */
public sealed interface Absmax permits Absmax.Plain, Absmax.Nested {

    /** Number of outer blocks. */
    int blocks();

    /**
     * The fp32 absmax per block. For {@link Nested} this is bitsandbytes' {@code dequantize_blockwise} followed by
     * {@code + offset}: {@code code[q[i]] * nestedAbsmax[i / nestedBlockSize] + offset}, each step rounded to fp32.
     */
    float[] decode();

    /** Bytes kept resident for the scales (codes, fp32 values, the nested code table and the offset). */
    long storedBytes();

    /** Plain fp32 absmax values {@code [blocks]}. */
    record Plain(float[] values) implements Absmax {
        public Plain {
            if (values == null || values.length == 0) {
                throw new IllegalArgumentException("absmax must hold at least one value");
            }
        }

        @Override
        public int blocks() {
            return values.length;
        }

        @Override
        public float[] decode() {
            return values.clone();
        }

        @Override
        public long storedBytes() {
            return 4L * values.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Plain p && Arrays.equals(values, p.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "Absmax.Plain[" + values.length + " blocks]";
        }
    }

    /**
     * Double-quantized absmax.
     *
     * @param codes           {@code [blocks]} uint8 codes into {@code nestedCode}
     * @param nestedAbsmax    {@code [ceil(blocks / nestedBlockSize)]} fp32 scale per nested block
     * @param nestedCode      {@code [256]} the 8-bit dynamic map the codes index
     * @param nestedBlockSize codes per nested block (256 for 4-bit weights)
     * @param offset          the mean of the original absmax values, added back after decoding
     */
    record Nested(byte[] codes, float[] nestedAbsmax, float[] nestedCode, int nestedBlockSize, float offset)
            implements Absmax {
        public Nested {
            if (codes == null || codes.length == 0) {
                throw new IllegalArgumentException("nested absmax codes must not be empty");
            }
            if (nestedBlockSize <= 0) {
                throw new IllegalArgumentException("nestedBlockSize must be positive, got " + nestedBlockSize);
            }
            int want = (codes.length + nestedBlockSize - 1) / nestedBlockSize;
            if (nestedAbsmax == null || nestedAbsmax.length != want) {
                throw new IllegalArgumentException("nested absmax must hold " + want + " values for " + codes.length
                        + " codes in blocks of " + nestedBlockSize + ", got "
                        + (nestedAbsmax == null ? "none" : nestedAbsmax.length));
            }
            if (nestedCode == null || nestedCode.length != 256) {
                throw new IllegalArgumentException("nested quant map must hold 256 values, got "
                        + (nestedCode == null ? "none" : nestedCode.length));
            }
            if (!Float.isFinite(offset)) {
                throw new IllegalArgumentException("nested offset must be finite, got " + offset);
            }
        }

        @Override
        public int blocks() {
            return codes.length;
        }

        @Override
        public float[] decode() {
            float[] out = new float[codes.length];
            for (int i = 0; i < out.length; i++) {
                float v = nestedCode[codes[i] & 0xFF] * nestedAbsmax[i / nestedBlockSize];
                out[i] = v + offset;
            }
            return out;
        }

        @Override
        public long storedBytes() {
            return codes.length + 4L * nestedAbsmax.length + 4L * nestedCode.length + 4L;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Nested n && Arrays.equals(codes, n.codes) && Arrays.equals(nestedAbsmax, n.nestedAbsmax)
                    && Arrays.equals(nestedCode, n.nestedCode) && nestedBlockSize == n.nestedBlockSize
                    && Float.compare(offset, n.offset) == 0;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(codes) * 31 + Float.hashCode(offset);
        }

        @Override
        public String toString() {
            return "Absmax.Nested[" + codes.length + " blocks, offset=" + offset + "]";
        }
    }
}
