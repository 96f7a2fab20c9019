package io.peft4j.core.testing;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link NativeMemory}'s malloc counts: with Native Memory Tracking on (the test argLine), the JVM's own share is
 * read and is a part of what glibc has handed out, and a direct buffer (category {@code Other}) stays in what
 * remains after subtracting it, so a leak of direct buffers would still show. The two counts are read one after the
 * other, not atomically, and the JVM's share moves by several MB on its own (compiler arenas), so the remainder is
 * the median of 7 checked readings and the buffer is large against that noise (256 MB, ±24 MB).
 */
class NativeMemoryTest {
    private static final int BUFFER_MB = 256;
    private static final int TOLERANCE_MB = 24;

    @Test
    void jvmMalloc_isPartOfGlibcCount_andLeavesDirectBuffersVisible() throws InterruptedException {
        assumeTrue(NativeMemory.mallocInUseKb().isPresent(), "needs glibc 2.33+ (mallinfo2)");
        assumeTrue(NativeMemory.jvmMallocKb().isPresent(), "needs -XX:NativeMemoryTracking=summary");
        long jvm = NativeMemory.jvmMallocKb().getAsLong();
        long all = NativeMemory.mallocInUseKb().getAsLong();
        assertTrue(jvm > 1024 && jvm < all, "JVM's own malloc " + jvm + " kB of " + all + " kB");

        System.gc();               // earlier tests' unreachable direct buffers: let their cleaners run first
        Thread.sleep(200);
        long before = remainderKb();
        ByteBuffer held = ByteBuffer.allocateDirect(BUFFER_MB << 20);
        long after = remainderKb();
        assertTrue(held.capacity() > 0);
        long grewKb = after - before;
        assertTrue(Math.abs(grewKb - ((long) BUFFER_MB << 10)) <= (long) TOLERANCE_MB << 10,
                "a " + BUFFER_MB + " MB direct buffer moved the count by " + grewKb + " kB");
    }

    /** Median of 7 readings of glibc's count less the JVM's own share ({@link NativeMemory#mallocLessJvmKb()}). */
    private static long remainderKb() {
        long[] r = new long[7];
        for (int i = 0; i < r.length; i++) {
            r[i] = NativeMemory.mallocLessJvmKb().getAsLong();
        }
        Arrays.sort(r);
        return r[r.length / 2];
    }
}
