package io.peft4j.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessMemoryTest {
    @Test
    void namesThePreloadedAllocatorFromItsMapsLine() {
        assertEquals("tcmalloc", ProcessMemory.allocatorOf(
                "7f1c2a000000-7f1c2a00b000 r--p 00000000 fe:01 1234 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10"));
        assertEquals("jemalloc", ProcessMemory.allocatorOf(
                "7f1c2a000000-7f1c2a00b000 r-xp 00000000 fe:01 99 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2"));
        assertNull(ProcessMemory.allocatorOf(
                "7f1c2a000000-7f1c2a00b000 r-xp 00000000 fe:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6"));
        assertNull(ProcessMemory.allocatorOf("7ffd1a2b3000-7ffd1a2d4000 rw-p 00000000 00:00 0 [stack]"));
        assertNull(ProcessMemory.allocatorOf("7f1c2a000000-7f1c2a00b000 rw-p 00000000 00:00 0 "));
    }

    @Test
    void namesTheAllocatorAPreloadListBringsIn() {
        assertEquals("tcmalloc", ProcessMemory.allocatorPreloadedBy(
                "/opt/a.so:/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"));
        assertEquals("jemalloc", ProcessMemory.allocatorPreloadedBy("/usr/lib/libjemalloc.so.2 /opt/b.so"));
        assertEquals("glibc", ProcessMemory.allocatorPreloadedBy("/opt/a.so"));
        assertEquals("glibc", ProcessMemory.allocatorPreloadedBy(""));
    }

    @Test
    void reportsAnAllocatorForThisProcess() {
        assertTrue(List.of("glibc", "tcmalloc", "jemalloc", "unknown").contains(ProcessMemory.allocator()),
                ProcessMemory.allocator());
    }
}
