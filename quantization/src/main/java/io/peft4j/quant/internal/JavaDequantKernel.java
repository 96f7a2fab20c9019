package io.peft4j.quant.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.quant.QuantizedTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Dequantization in a plain Java loop (a {@code [256, 2]} float table indexed by the packed byte, times the block's
 * absmax) into a per-thread scratch {@code float[]}, bulk-copied into a per-thread, pre-touched direct buffer that an
 * NDArray aliases without copying (djl-on-cpu.md row 2c). The scratch grows to the largest weight seen and is reused,
 * so the only fp32 copy is the one for the layer being computed. Same fp32 products as the reference: bit-identical.
 *
 * <p>The aliasing array returned by {@link #dequantizeShared} is valid only until the next call on the same thread;
 * callers use it at once and close it (or {@code duplicate()} it when autograd must keep it).
 */
public final class JavaDequantKernel {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private JavaDequantKernel() {
    }

    /** Fills {@code out [numel]} with the dequantized values, given the decoded absmax {@code [blocks]}. */
    public static void dequantize(QuantizedTensor q, float[] absmax, float[] out) {
        int n = q.numel();
        int bs = q.config().blockSize();
        byte[] data = q.data();
        float[] code = q.config().type().codebook();
        if (q.config().type().bits() == 8) {
            for (int i = 0; i < n; i++) {
                out[i] = code[data[i] & 0xFF] * absmax[i / bs];
            }
            return;
        }
        float[] hi = new float[256];
        float[] lo = new float[256];
        for (int b = 0; b < 256; b++) {
            hi[b] = code[b >>> 4];
            lo[b] = code[b & 0x0F];
        }
        int half = bs / 2;
        int pairs = n / 2;
        for (int blk = 0, j = 0; j < pairs; blk++) {
            float am = absmax[blk];
            int end = Math.min(pairs, j + half);
            for (; j < end; j++) {
                int b = data[j] & 0xFF;
                out[2 * j] = hi[b] * am;
                out[2 * j + 1] = lo[b] * am;
            }
        }
        if ((n & 1) == 1) {
            out[n - 1] = hi[data[n >> 1] & 0xFF] * absmax[(n - 1) / bs];
        }
    }

    /**
     * The dequantized weight {@code [shape]} as an array on {@code manager} that aliases this thread's scratch
     * buffer: overwritten by the next call on this thread.
     */
    public static NDArray dequantizeShared(QuantizedTensor q, float[] absmax, NDManager manager) {
        Scratch s = SCRATCH.get();
        int n = q.numel();
        s.ensure(n);
        dequantize(q, absmax, s.values);
        FloatBuffer fb = s.direct.asFloatBuffer();
        fb.put(s.values, 0, n);
        ByteBuffer view = s.direct.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        view.position(0).limit(4 * n);
        return manager.create(view.slice().order(ByteOrder.LITTLE_ENDIAN), new Shape(q.shape()), DataType.FLOAT32);
    }

    /** Drops this thread's scratch buffers (they are re-created on the next call). */
    public static void releaseScratch() {
        SCRATCH.remove();
    }

    private static final class Scratch {
        float[] values = new float[0];
        ByteBuffer direct = ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);

        void ensure(int n) {
            if (values.length < n) {
                values = new float[n];
                direct = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                direct.asFloatBuffer().put(values); // touch every page once
            }
        }
    }
}
