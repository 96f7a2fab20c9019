package io.peft4j.core.model.block;

import java.nio.ByteBuffer;

/**
 * One layer's cached keys and values read in place: views of buffers {@code [rows, kvHeads, capacity, D]} whose live
 * positions are the columns {@code [origin, origin + length)}, for {@link GroupedQueryAttention#attendRows}.
 *
 * <pre>{@code
 * CachedKeyValues kv = new CachedKeyValues(keys, values, 3, 64, 512, 0, 257);
 * float k0 = kv.keys().getFloat(4 * kv.offset(0, 0, 0));   // row 0, kv head 0, first live position, element 0
 * }</pre>
 *
 * @param keys     direct little-endian view of the keys buffer (native memory, not a copy); indices in floats
 * @param values   the same of the values buffer
 * @param kvHeads  key/value heads
 * @param headDim  D
 * @param capacity columns per (row, head)
 * @param origin   first live column
 * @param length   live columns
 * @since 0.1.0
 */
public record CachedKeyValues(ByteBuffer keys, ByteBuffer values, int kvHeads, int headDim, int capacity,
                              int origin, int length) {

    /** Float index of element 0 of live position {@code j} of {@code row}'s kv head {@code head}. */
    public int offset(int row, int head, int j) {
        return ((row * kvHeads + head) * capacity + origin + j) * headDim;
    }
}
