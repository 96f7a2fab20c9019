package io.peft4j.core.checkpoint.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Converts little-endian safetensors element bytes to fp32 (or int32), element by element. This is the
 * spec for {@code readFloats}/{@code load}: F16/BF16 widen exactly, F64 narrows like a Java cast, integers
 * convert like a Java cast (int32/int64 beyond 2^24 lose precision), BOOL and U8 read unsigned.
 *
 * <pre>{@code
 * float[] out = new float[n];
 * Widening.toFloats(SafetensorsDtype.BF16, rawLittleEndian, FloatBuffer.wrap(out), n);
 * }</pre>
 */
public final class Widening {
    private Widening() {
    }

    /** Writes {@code n} elements of {@code src} (little-endian, position 0) to {@code dst[0..n)}. */
    public static void toFloats(SafetensorsDtype dtype, ByteBuffer src, FloatBuffer dst, int n) {
        switch (dtype) {
            case F32 -> {
                FloatBuffer f = src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                dst.duplicate().position(0).put(f.limit(n));
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(i, HalfFloats.f16ToFloat(src.getShort(2 * i)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(i, HalfFloats.bf16ToFloat(src.getShort(2 * i)));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(i, (float) src.getDouble(8 * i));
                }
            }
            case I64 -> {
                for (int i = 0; i < n; i++) {
                    dst.put(i, (float) src.getLong(8 * i));
                }
            }
            default -> integersToFloats(dtype, src, dst, n);
        }
    }

    private static void integersToFloats(SafetensorsDtype dtype, ByteBuffer src, FloatBuffer dst, int n) {
        for (int i = 0; i < n; i++) {
            dst.put(i, switch (dtype) {
                case BOOL, U8 -> src.get(i) & 0xff;
                case I8 -> src.get(i);
                case I16 -> src.getShort(2 * i);
                case I32 -> (float) src.getInt(4 * i);
                default -> throw new IllegalArgumentException("not an integer dtype: " + dtype);
            });
        }
    }

    /** I16 → int32 for DJL (which cannot hold INT16): {@code n} elements to {@code dst[0..n)}. */
    public static void shortsToInts(ByteBuffer src, IntBuffer dst, int n) {
        for (int i = 0; i < n; i++) {
            dst.put(i, src.getShort(2 * i));
        }
    }
}
