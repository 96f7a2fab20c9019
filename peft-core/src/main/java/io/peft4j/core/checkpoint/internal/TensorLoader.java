package io.peft4j.core.checkpoint.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.internal.TensorEntry;
import io.peft4j.core.checkpoint.internal.Widening;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Turns the mapped bytes of one tensor into an NDArray the PyTorch engine can hold. Only DJL types with a
 * native mapping are ever created (FLOAT32, INT8, UINT8, INT32, INT64, BOOLEAN): passing BF16 or INT16 to
 * DJL terminates the JVM. Natively-held types are copied by torch from a short-lived zero-copy view of the
 * mapping, so the result never aliases the (read-only) file.
 */
public final class TensorLoader {
    private final Path file;
    private final NDManager manager;

    public TensorLoader(Path file, NDManager manager) {
        this.file = file;
        this.manager = manager;
    }

    public NDArray load(TensorEntry e, ByteBuffer raw) throws CheckpointFormatException {
        Shape shape = new Shape(e.shape());
        DataType type = e.dtype().djlType();
        if (e.numel() == 0) {
            return manager.zeros(shape, type);
        }
        int n = Math.toIntExact(e.numel());
        return switch (e.dtype()) {
            case F16, BF16, F64 -> {
                ByteBuffer out = direct((long) n * 4);
                Widening.toFloats(e.dtype(), raw, out.asFloatBuffer(), n);
                yield manager.create(out, shape, DataType.FLOAT32);
            }
            case I16 -> {
                ByteBuffer out = direct((long) n * 4);
                Widening.shortsToInts(raw, out.asIntBuffer(), n);
                yield manager.create(out, shape, DataType.INT32);
            }
            case BOOL -> {
                checkBooleans(e, raw, n);
                yield copyOf(raw, shape, type);
            }
            default -> copyOf(raw, shape, type);
        };
    }

    /** torch copies the bytes out of a temporary view over the read-only mapping. */
    private NDArray copyOf(ByteBuffer raw, Shape shape, DataType type) {
        try (NDArray view = manager.create(raw, shape, type)) {
            return view.duplicate();
        }
    }

    private void checkBooleans(TensorEntry e, ByteBuffer raw, int n) throws CheckpointFormatException {
        for (int i = 0; i < n; i++) {
            byte b = raw.get(i);
            if (b != 0 && b != 1) {
                throw new CheckpointFormatException(file, e.name(), "BOOL element " + i + " is byte " + (b & 0xff)
                        + ", expected 0 or 1");
            }
        }
    }

    private ByteBuffer direct(long bytes) {
        return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
