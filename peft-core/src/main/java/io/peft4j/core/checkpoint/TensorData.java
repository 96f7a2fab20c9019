package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.peft4j.core.checkpoint.internal.HalfFloats;
import io.peft4j.core.checkpoint.internal.SafetensorsDtype;
import io.peft4j.core.checkpoint.internal.Widening;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * One tensor as safetensors stores it: dtype spelling ({@code F32}, {@code BF16}, {@code U8}, ...), shape
 * (outermost first) and the little-endian element bytes. Immutable: {@link #data()} is a read-only view.
 * The factories narrow floats to F16/BF16 with round-to-nearest-even, exactly as PyTorch does.
 *
 * <pre>{@code
 * TensorData a = TensorData.ofFloats("BF16", new float[] {1f, 2f, 3f, 4f, 5f, 6f}, 2, 3);
 * SafetensorsWriter.write(Path.of("t.safetensors"), Map.of("a", a), Map.of("format", "pt"));
 * }</pre>
 *
 * @param dtype safetensors dtype name, normalized to upper case
 * @param shape dimensions, outermost first; empty for a scalar
 * @param data  {@code numel × dtype size} bytes, little-endian
 *
 * @since 0.1.0
 */
public record TensorData(String dtype, long[] shape, ByteBuffer data) {

    public TensorData {
        SafetensorsDtype d = SafetensorsDtype.require(dtype);
        dtype = d.name();
        if (shape == null || data == null) {
            throw new IllegalArgumentException("shape and data must not be null");
        }
        shape = shape.clone();
        long bytes = d.size();
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            bytes = Math.multiplyExact(bytes, dim);
        }
        if (bytes != data.remaining()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " x " + dtype + " needs " + bytes
                    + " bytes, data has " + data.remaining());
        }
        data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Floats stored as {@code dtype} (F32, F16, BF16 or F64); F16/BF16 are rounded to nearest even. */
    public static TensorData ofFloats(String dtype, float[] values, long... shape) {
        SafetensorsDtype d = SafetensorsDtype.require(dtype);
        ByteBuffer b = buffer(values.length, d.size(), shape);
        for (float v : values) {
            switch (d) {
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(HalfFloats.floatToF16(v));
                case BF16 -> b.putShort(HalfFloats.floatToBf16(v));
                case F64 -> b.putDouble(v);
                default -> throw new IllegalArgumentException("ofFloats needs F32, F16, BF16 or F64, not " + dtype);
            }
        }
        return new TensorData(d.name(), shape, b.flip());
    }

    /** Shorthand for {@code ofFloats("F32", values, shape)}. */
    public static TensorData f32(float[] values, long... shape) {
        return ofFloats("F32", values, shape);
    }

    /** Bytes stored as I8, U8 (values read unsigned) or BOOL (each byte must be 0 or 1). */
    public static TensorData ofBytes(String dtype, byte[] values, long... shape) {
        SafetensorsDtype d = SafetensorsDtype.require(dtype);
        if (d.size() != 1) {
            throw new IllegalArgumentException("ofBytes needs I8, U8 or BOOL, not " + dtype);
        }
        if (d == SafetensorsDtype.BOOL) {
            for (byte v : values) {
                if (v != 0 && v != 1) {
                    throw new IllegalArgumentException("BOOL values must be 0 or 1, got " + v);
                }
            }
        }
        return new TensorData(d.name(), shape, buffer(values.length, 1, shape).put(values).flip());
    }

    /** 16-bit integers as I16. */
    public static TensorData ofShorts(short[] values, long... shape) {
        ByteBuffer b = buffer(values.length, 2, shape);
        b.asShortBuffer().put(values);
        return new TensorData("I16", shape, b);
    }

    /** 32-bit integers as I32. */
    public static TensorData ofInts(int[] values, long... shape) {
        ByteBuffer b = buffer(values.length, 4, shape);
        b.asIntBuffer().put(values);
        return new TensorData("I32", shape, b);
    }

    /** 64-bit integers as I64. */
    public static TensorData ofLongs(long[] values, long... shape) {
        ByteBuffer b = buffer(values.length, 8, shape);
        b.asLongBuffer().put(values);
        return new TensorData("I64", shape, b);
    }

    /**
     * A copy of {@code array}'s values: FLOAT32 → F32, FLOAT16 → F16, FLOAT64 → F64, INT8 → I8, UINT8 → U8,
     * INT32 → I32, INT64 → I64, BOOLEAN → BOOL. The array can be closed afterwards.
     */
    public static TensorData of(NDArray array) {
        String dtype = dtypeOf(array.getDataType());
        ByteBuffer src = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer copy = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(src).flip();
        return new TensorData(dtype, array.getShape().getShape(), copy);
    }

    private static String dtypeOf(DataType type) {
        return switch (type) {
            case FLOAT32 -> "F32";
            case FLOAT16 -> "F16";
            case FLOAT64 -> "F64";
            case INT8 -> "I8";
            case UINT8 -> "U8";
            case INT32 -> "I32";
            case INT64 -> "I64";
            case BOOLEAN -> "BOOL";
            default -> throw new IllegalArgumentException("cannot store NDArray of type " + type);
        };
    }

    private static ByteBuffer buffer(int count, int size, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        if (n != count) {
            throw new IllegalArgumentException(count + " values do not fill shape " + Arrays.toString(shape));
        }
        return ByteBuffer.allocate(Math.multiplyExact(count, size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Values widened to fp32 (as {@link TensorSource#readFloats} does). */
    public float[] toFloats() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        Widening.toFloats(SafetensorsDtype.require(dtype), data, FloatBuffer.wrap(out), n);
        return out;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A fresh read-only, little-endian view of the bytes (position 0). */
    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && dtype.equals(t.dtype) && Arrays.equals(shape, t.shape)
                && data.equals(t.data);
    }

    @Override
    public int hashCode() {
        return (dtype.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + data.hashCode();
    }

    @Override
    public String toString() {
        return "TensorData[" + dtype + Arrays.toString(shape) + ", " + data.remaining() + " bytes]";
    }
}
