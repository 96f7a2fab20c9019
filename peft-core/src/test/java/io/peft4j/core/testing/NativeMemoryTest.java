package io.peft4j.core.testing;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link NativeMemory}'s malloc counts: with Native Memory Tracking on (the test argLine), the JVM's own share is
 * read and is a part of what glibc has handed out, and a direct buffer (category {@code Other}) stays in what
 * remains after subtracting it, so a leak of direct buffers would still show.
 */
class NativeMemoryTest {
    @Test
    void jvmMalloc_isPartOfGlibcCount_andLeavesDirectBuffersVisible() {
        assumeTrue(NativeMemory.mallocInUseKb().isPresent(), "needs glibc 2.33+ (mallinfo2)");
        assumeTrue(NativeMemory.jvmMallocKb().isPresent(), "needs -XX:NativeMemoryTracking=summary");
        long jvm = NativeMemory.jvmMallocKb().getAsLong();
        long all = NativeMemory.mallocInUseKb().getAsLong();
        assertTrue(jvm > 1024 && jvm < all, "JVM's own malloc " + jvm + " kB of " + all + " kB");

        long before = all - jvm;
        ByteBuffer held = ByteBuffer.allocateDirect(64 << 20);
        long after = NativeMemory.mallocInUseKb().getAsLong() - NativeMemory.jvmMallocKb().getAsLong();
        assertTrue(held.capacity() > 0);
        long grewKb = after - before;
        assertTrue(grewKb > 60 << 10 && grewKb < 70 << 10, "a 64 MB direct buffer moved the count by " + grewKb
                + " kB");
    }
}
