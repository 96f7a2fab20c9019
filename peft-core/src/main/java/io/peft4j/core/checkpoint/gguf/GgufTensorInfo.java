package io.peft4j.core.checkpoint.gguf;

import java.util.Arrays;

/**
 * One entry of a GGUF file's tensor-info table ({@code gguf_tensor_info_t}), validated: the dimensions are
 * positive and their product fits in a long, the row length is a whole number of blocks, and the byte range lies
 * inside the file.
 *
 * <pre>{@code
 * GgufTensorInfo t = gguf.tensor("blk.0.attn_q.weight").orElseThrow();
 * long[] torchShape = t.shape();   // [576, 576]: ne reversed
 * GgmlType type = t.type();        // Q4_1
 * }</pre>
 *
 * @param name       the llama.cpp tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param ne         dimensions in ggml order: {@code ne[0]} is the fastest-varying (row length)
 * @param type       storage type
 * @param offset     offset of the data relative to the start of the data section ({@code uint64_t offset})
 * @param fileOffset absolute offset of the data in the file
 * @param byteSize   bytes the data takes
 *
 * @since 0.1.0
 */
public record GgufTensorInfo(String name, long[] ne, GgmlType type, long offset, long fileOffset, long byteSize) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    /** Dimensions in ggml order ({@code ne[0]} fastest). */
    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** The shape in PyTorch order (outermost first): {@code ne} reversed. */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = ne[ne.length - 1 - i];
        }
        return s;
    }

    /** Number of elements (product of the dimensions). */
    public long elementCount() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(ne, t.ne) && type == t.type
                && offset == t.offset && fileOffset == t.fileOffset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape()) + " " + type + " @" + fileOffset;
    }
}
