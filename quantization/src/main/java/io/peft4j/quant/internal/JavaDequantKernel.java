package io.peft4j.quant.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.quant.QuantizedTensor;
import io.peft4j.quant.internal.kernel.MatVec;
import io.peft4j.quant.internal.kernel.QuantMatrix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Dequantization in a plain Java loop (per packed byte two reads from 256-entry code tables, each times the block's
 * absmax) written into a per-thread, pre-touched direct buffer that an NDArray aliases without copying
 * (djl-on-cpu.md row 2c). The scratch grows to the largest weight seen and is reused, so the only fp32 copy is the
 * one for the layer being computed. Same fp32 products as the reference: bit-identical.
 *
 * <p>The aliasing array returned by {@link #dequantizeShared} is valid only until the next call on the same thread;
 * callers use it at once and close it (or {@code duplicate()} it when autograd must keep it).
 */
public final class JavaDequantKernel {
    /** Weights from this many elements on are dequantized on the common pool as well. */
    private static final int PARALLEL_MIN = 1 << 20;
    /** Floats decoded into a heap chunk (L1/L2-sized) before each bulk copy into the direct buffer. */
    private static final int CHUNK = 1 << 13;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private JavaDequantKernel() {
    }

    /** Fills {@code out [numel]} with the dequantized values, given the decoded absmax {@code [blocks]}. */
    public static void dequantize(QuantizedTensor q, float[] absmax, float[] out) {
        int n = q.numel();
        int bs = q.config().blockSize();
        float[] code = q.config().type().codebook();
        if (q.config().type().bits() == 8) {
            eightBit(q.data(), code, absmax, bs, 0, n, out, 0);
            return;
        }
        fourBitBlocks(q.data(), nibbleTables(code), absmax, bs, n, 0, absmax.length, out, 0);
        if ((n & 1) == 1) {
            out[n - 1] = code[(q.data()[n >> 1] >> 4) & 0x0F] * absmax[(n - 1) / bs];
        }
    }

    /**
     * As {@link #dequantize(QuantizedTensor, float[], float[])} into {@code out} (a direct buffer in practice):
     * blocks are decoded into a small heap chunk that is bulk-copied with one absolute put (per-element puts into a
     * direct buffer cost a bounds check each and do not vectorize). Large weights are split by blocks over the common
     * fork-join pool (each element is written exactly once with the same product, so the split cannot change it).
     */
    public static void dequantize(QuantizedTensor q, float[] absmax, FloatBuffer out) {
        int n = q.numel();
        int bs = q.config().blockSize();
        int blocks = absmax.length;
        // a few tasks per thread, so a thread descheduled on a loaded machine does not hold up the whole weight
        int tasks = n >= PARALLEL_MIN
                ? Math.max(1, Math.min(blocks, 4 * (ForkJoinPool.getCommonPoolParallelism() + 1))) : 1;
        int per = (blocks + tasks - 1) / tasks;
        if (tasks == 1) {
            blocksInto(q, absmax, 0, blocks, out);
        } else {
            IntStream.range(0, tasks).parallel().forEach(t -> blocksInto(q, absmax, Math.min(blocks, t * per),
                    Math.min(blocks, (t + 1) * per), out));
        }
        if (q.config().type().bits() == 4 && (n & 1) == 1) {
            out.put(n - 1, q.config().type().codebook()[(q.data()[n >> 1] >> 4) & 0x0F] * absmax[(n - 1) / bs]);
        }
    }

    /** Blocks {@code [fromBlock, toBlock)} chunk by chunk through a heap buffer into {@code out}. */
    private static void blocksInto(QuantizedTensor q, float[] absmax, int fromBlock, int toBlock, FloatBuffer out) {
        int n = q.numel();
        int bs = q.config().blockSize();
        boolean four = q.config().type().bits() == 4;
        float[] code = q.config().type().codebook();
        int chunkBlocks = Math.max(1, CHUNK / bs);
        float[] chunk = new float[chunkBlocks * bs];
        float[][] nibbles = four ? nibbleTables(code) : null;
        for (int b = fromBlock; b < toBlock; b += chunkBlocks) {
            int end = Math.min(toBlock, b + chunkBlocks);
            int first = b * bs;
            int last = four ? Math.min(2 * (n / 2), end * bs) : Math.min(n, end * bs);
            if (four) {
                fourBitBlocks(q.data(), nibbles, absmax, bs, n, b, end, chunk, -first);
            } else {
                eightBit(q.data(), code, absmax, bs, first, last, chunk, -first);
            }
            out.put(first, chunk, 0, last - first);
        }
    }

    /** {@code {code[b >> 4], code[b & 15]}} for every byte value {@code b}: the codes of the high and low nibble. */
    private static float[][] nibbleTables(float[] code) {
        float[][] t = new float[2][256];
        for (int b = 0; b < 256; b++) {
            t[0][b] = code[b >>> 4];
            t[1][b] = code[b & 0x0F];
        }
        return t;
    }

    /** Elements {@code [from, to)} of an 8-bit tensor into {@code dst[i + shift]}. */
    private static void eightBit(byte[] data, float[] code, float[] absmax, int bs, int from, int to, float[] dst,
                                 int shift) {
        for (int i = from; i < to; i++) {
            dst[i + shift] = code[data[i] & 0xFF] * absmax[i / bs];
        }
    }

    /**
     * 4-bit blocks {@code [fromBlock, toBlock)} (whole pairs only; the odd last element is the caller's) into
     * {@code dst[i + shift]}: each packed byte indexes two 256-entry tables of unscaled codes (high and low nibble),
     * each times the block's absmax: the same fp32 product {@code code[c] * absmax} as the reference, in a loop
     * without shifts or per-block setup that the JIT compiles tightly.
     */
    private static void fourBitBlocks(byte[] data, float[][] nibbles, float[] absmax, int bs, int n, int fromBlock,
                                      int toBlock, float[] dst, int shift) {
        float[] hi = nibbles[0];
        float[] lo = nibbles[1];
        int half = bs / 2;
        int pairs = n / 2;
        for (int blk = fromBlock; blk < toBlock; blk++) {
            float am = absmax[blk];
            int end = Math.min(pairs, (blk + 1) * half);
            for (int j = blk * half; j < end; j++) {
                int b = data[j] & 0xFF;
                int o = 2 * j + shift;
                dst[o] = hi[b] * am;
                dst[o + 1] = lo[b] * am;
            }
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
        dequantize(q, absmax, s.direct.asFloatBuffer());
        return s.view(n, q.shape(), manager);
    }

    /**
     * As {@link #dequantizeShared(QuantizedTensor, float[], NDManager)} for GGUF blocks: with the decode kernel on,
     * its SIMD row decoding from the fp32 block scales ({@link MatVec#dequantize}, split over the decode workers:
     * ~10x faster than the reference loop, which made prefill's weight decoding cost more than its GEMMs), else
     * {@link QuantMatrix.Ggml#decodeAll}. Either way the values are ggml's (a zero may differ in sign, which no
     * product or sum can tell). Overwritten by the next call on this thread.
     */
    public static NDArray dequantizeShared(QuantMatrix.Ggml w, NDManager manager) {
        Scratch s = SCRATCH.get();
        int n = Math.multiplyExact(w.rows(), w.cols());
        s.ensure(n);
        if (MatVec.enabled()) {
            MatVec.dequantize(w, s.direct.asFloatBuffer());
        } else {
            w.decodeAll(s.direct.asFloatBuffer());
        }
        return s.view(n, new long[] {w.rows(), w.cols()}, manager);
    }

    /** Drops this thread's scratch buffers (they are re-created on the next call). */
    public static void releaseScratch() {
        SCRATCH.remove();
    }

    private static final class Scratch {
        int capacity;
        ByteBuffer direct = ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);

        /** The first {@code n} floats as an array of {@code shape} on {@code manager}, aliasing the buffer. */
        NDArray view(int n, long[] shape, NDManager manager) {
            ByteBuffer view = direct.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            view.position(0).limit(4 * n);
            return manager.create(view.slice().order(ByteOrder.LITTLE_ENDIAN), new Shape(shape), DataType.FLOAT32);
        }

        void ensure(int n) {
            if (capacity < n) {
                capacity = n;
                direct = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                FloatBuffer f = direct.asFloatBuffer();
                for (int i = 0; i < n; i += 1024) {
                    f.put(i, 0f); // touch every page once
                }
            }
        }
    }
}
