package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.checkpoint.GgmlType;

import java.nio.ByteBuffer;
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
 */
public final class GgmlDequantizer {
    private static final int CHUNK_BYTES = 1 << 16;
    private static final int PARALLEL_MIN_BYTES = 1 << 18;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[CHUNK_BYTES + 512]);

    private GgmlDequantizer() {
    }

    /**
     * Writes {@code nElements} values decoded from {@code src[0 ..]} into {@code dst[dstOff ..]}.
     *
     * @throws IllegalArgumentException when the type cannot be dequantized, {@code nElements} is not a whole
     *                                  number of blocks, or the buffer or destination is too small
     */
    public static void dequantize(GgmlType type, ByteBuffer src, long nElements, float[] dst, int dstOff) {
        if (!type.dequantizable()) {
            throw new IllegalArgumentException("no dequantization for ggml type " + type);
        }
        long bytes = type.byteSize(nElements);
        if (bytes > src.capacity() || dstOff < 0 || nElements > dst.length - (long) dstOff) {
            throw new IllegalArgumentException(type + ": " + nElements + " elements need " + bytes
                    + " source bytes (have " + src.capacity() + ") and room in the destination");
        }
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
            int srcPos = first * type.typeSize();
            src.get(srcPos, scratch, 0, count * type.typeSize());
            GgmlKernels.dequantize(type, scratch, 0, dst, dstOff + first * type.blockSize(), count);
        });
    }
}
