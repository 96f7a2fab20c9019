package io.peft4j.core.checkpoint.internal;

import java.util.Arrays;

/**
 * One validated tensor entry of a safetensors header: name, dtype, shape and its byte range
 * {@code [begin, end)} relative to the start of the data section.
 *
 * <pre>{@code
 * TensorEntry e = header.entries().get(0);
 * long fileOffset = header.dataStart() + e.begin();
 * }</pre>
 */
public record TensorEntry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {

    /** Number of elements (the product of the shape; 1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d; // cannot overflow: checked when the header was parsed
        }
        return n;
    }

    /** Bytes of data ({@code end - begin}). */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + "," + end + ")";
    }
}
