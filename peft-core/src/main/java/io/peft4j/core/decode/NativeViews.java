package io.peft4j.core.decode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Zero-copy views of fp32 tensor memory for the decode loops: {@code toByteBuffer(true)} of a contiguous CPU tensor
 * is a direct buffer over the tensor's own memory (writes through it show in the tensor, in-place updates of the
 * tensor show through it); anything else is a copy. Stateless.
 *
 * <pre>{@code
 * ByteBuffer keys = NativeViews.of(cacheBuffer);        // null when the engine gives only a copy
 * float k0 = keys.getFloat(0);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class NativeViews {
    private NativeViews() {
    }

    /** A little-endian view aliasing {@code array}'s fp32 memory, or {@code null} when the engine gives a copy. */
    public static ByteBuffer of(NDArray array) {
        ByteBuffer b = array.toByteBuffer(true);
        if (!b.isDirect() || b.capacity() != 4L * array.size()) {
            return null;
        }
        return b.order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Whether arrays made by {@code manager}'s engine give aliasing views: a write through the view of a probe array
     * shows in the array.
     */
    public static boolean alias(NDManager manager) {
        try (NDManager m = manager.newSubManager()) {
            NDArray probe = m.zeros(new Shape(4));
            ByteBuffer view = of(probe);
            if (view == null) {
                return false;
            }
            view.putFloat(8, 7f);
            return probe.toFloatArray()[2] == 7f;
        }
    }
}
