package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.gguf.GgmlType;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Dequantizes a whole ggml tensor from a (mapped) byte buffer to fp32, splitting large tensors into chunks of
 * blocks that run in parallel. Each chunk is copied out of the buffer with an absolute bulk get and handed to the
 * scalar reference {@link GgmlKernels}, so the result is bit-identical to the single-threaded kernel whatever the
 * split.
 *
 * <p>Thread-safe (the buffer is only read through absolute gets).
 *
 * <pre>{@code
 * float[] out = new float[576 * 1536];
 * GgmlDequantizer.dequantize(GgmlType.Q4_1, mappedBytes, out.length, out, 0);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgmlDequantizer {
    private static final int CHUNK_BYTES = 1 << 16;
    private static final int PARALLEL_MIN_BYTES = 1 << 18;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[CHUNK_BYTES + 512]);
    private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[0]);

    private GgmlDequantizer() {
    }

    /**
     * Writes {@code nElements} values decoded from {@code src[0 ..]} into {@code dst[dstOff ..]}.
     *
     * @throws IllegalArgumentException when the type cannot be dequantized, {@code nElements} is not a whole
     *                                  number of blocks, or the buffer or destination is too small
     */
    public static void dequantize(GgmlType type, ByteBuffer src, long nElements, float[] dst, int dstOff) {
        check(type, src, nElements, dstOff, dst.length);
        forEachChunk(type, src, nElements, (scratch, first, count) ->
                GgmlKernels.dequantize(type, scratch, 0, dst, dstOff + first * type.blockSize(), count));
    }

    /**
     * As {@link #dequantize(GgmlType, ByteBuffer, long, float[], int)} into a (typically direct) buffer with absolute
     * puts, so a tensor can be decoded straight into native memory without a Java {@code float[]} of its size: each
     * chunk goes through a per-thread float scratch of {@value #CHUNK_BYTES} source bytes' worth of values.
     */
    public static void dequantize(GgmlType type, ByteBuffer src, long nElements, FloatBuffer dst, int dstOff) {
        check(type, src, nElements, dstOff, dst.capacity());
        forEachChunk(type, src, nElements, (scratch, first, count) -> {
            int values = count * type.blockSize();
            float[] f = FLOATS.get();
            if (f.length < values) {
                f = new float[values];
                FLOATS.set(f);
            }
            GgmlKernels.dequantize(type, scratch, 0, f, 0, count);
            dst.put(dstOff + first * type.blockSize(), f, 0, values);
        });
    }

    private static void check(GgmlType type, ByteBuffer src, long nElements, int dstOff, int dstLength) {
        if (!type.dequantizable()) {
            throw new IllegalArgumentException("no dequantization for ggml type " + type);
        }
        long bytes = type.byteSize(nElements);
        if (bytes > src.capacity() || dstOff < 0 || nElements > dstLength - (long) dstOff) {
            throw new IllegalArgumentException(type + ": " + nElements + " elements need " + bytes
                    + " source bytes (have " + src.capacity() + ") and room in the destination");
        }
    }

    /** Splits the blocks into chunks (in parallel from {@value #PARALLEL_MIN_BYTES} source bytes on). */
    private static void forEachChunk(GgmlType type, ByteBuffer src, long nElements, ChunkDecoder decoder) {
        long bytes = type.byteSize(nElements);
        int nBlocks = Math.toIntExact(nElements / type.blockSize());
        int chunkBlocks = Math.max(1, CHUNK_BYTES / type.typeSize());
        int nChunks = (nBlocks + chunkBlocks - 1) / chunkBlocks;
        IntStream chunks = IntStream.range(0, nChunks);
        if (bytes >= PARALLEL_MIN_BYTES) {
            chunks = chunks.parallel();
        }
        chunks.forEach(c -> {
            int first = c * chunkBlocks;
            int count = Math.min(chunkBlocks, nBlocks - first);
            byte[] scratch = SCRATCH.get();
            src.get(first * type.typeSize(), scratch, 0, count * type.typeSize());
            decoder.decode(scratch, first, count);
        });
    }

    /** Decodes {@code count} blocks held at the start of {@code scratch}, the first being block {@code first}. */
    @FunctionalInterface
    private interface ChunkDecoder {
        void decode(byte[] scratch, int first, int count);
    }
}
