package io.peft4j.core.testing;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Structure;
import io.peft4j.core.ProcessMemory;

import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resident memory outside the Java heap, for memory tests on Linux: after a full GC, {@code VmRSS} minus the
 * resident pages that lie inside the Java heap's address range (read from {@code /proc/self/smaps}; the range comes
 * from the {@code GC.heap_info} diagnostic command). Subtracting the heap's own resident pages, not its committed
 * size, matters: G1 grows and shrinks the committed heap by tens of MB from one GC to the next, and pages it has
 * committed but not touched (or uncommitted but not yet returned) made "RSS minus committed heap" jump by up to
 * 50 MB between neighbouring samples. Falls back to RSS minus the committed heap where the range is unknown.
 *
 * <p>{@link #mallocInUseKb()} is the sharper leak signal: the bytes glibc has handed out and not yet taken back
 * ({@code mallinfo2}, called through JNA, which DJL brings). libtorch tensors, JNI buffers and direct byte buffers
 * all come from {@code malloc}, and unlike RSS the count does not include free memory the allocator keeps cached,
 * which moves RSS in steps of several MB while nothing leaks.
 *
 * <pre>{@code
 * MemorySeries rss = new MemorySeries();
 * MemorySeries malloc = new MemorySeries();
 * rss.add(step, NativeMemory.settledKb());
 * NativeMemory.mallocInUseKb().ifPresent(kb -> malloc.add(step, kb));
 * }</pre>
 */
public final class NativeMemory {
    private static final Path SMAPS = Path.of("/proc/self/smaps");
    private static final Pattern HEAP_RANGE = Pattern.compile("\\[(0x[0-9a-f]+), (0x[0-9a-f]+)\\)");
    private static final Pattern NMT_CATEGORY = Pattern.compile("^-\\s+([A-Za-z][A-Za-z ]*?) \\(reserved=");
    private static final Pattern NMT_MALLOC = Pattern.compile("\\(malloc=(\\d+)KB");
    private static final Pattern NMT_OVERHEAD = Pattern.compile("\\(tracking overhead=(\\d+)KB");
    private static final Pattern VMA = Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) .*");

    private NativeMemory() {
    }

    /** Resident kB outside the Java heap, after a full GC; throws where {@code /proc} is missing (not Linux). */
    public static long settledKb() {
        System.gc();
        long[] heap = heapRange();
        if (heap == null) {
            return ProcessMemory.nativeRssBytes().orElseThrow(() -> new IllegalStateException("no VmRSS (not Linux?)"))
                    >> 10;
        }
        long total = 0;
        long inHeap = 0;
        try {
            List<String> lines = Files.readAllLines(SMAPS);
            boolean heapVma = false;
            for (String line : lines) {
                Matcher m = VMA.matcher(line);
                if (m.matches()) {
                    long start = Long.parseUnsignedLong(m.group(1), 16);
                    long end = Long.parseUnsignedLong(m.group(2), 16);
                    heapVma = start >= heap[0] && end <= heap[1];
                } else if (line.startsWith("Rss:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    total += kb;
                    inHeap += heapVma ? kb : 0;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SMAPS + " (not Linux?)", e);
        }
        return total - inHeap;
    }

    /**
     * kB that glibc {@code malloc} has handed out and not yet freed (all arenas plus mmap'd chunks:
     * {@code uordblks + hblkhd} of {@code mallinfo2}); empty without glibc 2.33+ (musl, macOS, Windows).
     */
    public static OptionalLong mallocInUseKb() {
        try {
            Function f = NativeLibrary.getInstance("c").getFunction("mallinfo2");
            MallInfo2 mi = (MallInfo2) f.invoke(MallInfo2.class, new Object[0]);
            return OptionalLong.of((mi.uordblks + mi.hblkhd) >> 10);
        } catch (LinkageError | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * kB the JVM itself has taken from {@code malloc} for its own bookkeeping (compiler arenas, symbols, GC and class
     * metadata, thread stacks' side tables), as Native Memory Tracking counts it: every category's {@code malloc}
     * plus NMT's per-allocation headers, except category {@code Other}, which holds direct byte buffers and
     * {@code Unsafe.allocateMemory} (native memory a program or library asks for, so a leak there must stay
     * visible). Empty unless the JVM runs with {@code -XX:NativeMemoryTracking=summary} (the test argLine sets it).
     * The compiler's arenas alone swing this count by 10 MB within seconds, on a timer of their own, which is why
     * {@link NativeMemoryTrend} subtracts it from {@link #mallocInUseKb()}.
     */
    public static OptionalLong jvmMallocKb() {
        String summary;
        try {
            summary = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()}));
        } catch (Exception e) {
            return OptionalLong.empty();
        }
        long kb = 0;
        boolean seen = false;
        String category = "";
        for (String line : summary.split("\\R")) {
            Matcher c = NMT_CATEGORY.matcher(line);
            if (c.find()) {
                category = c.group(1).trim();
            }
            Matcher m = NMT_MALLOC.matcher(line);
            if (m.find() && !category.equals("Other")) {
                kb += Long.parseLong(m.group(1));
                seen = true;
            }
            Matcher o = NMT_OVERHEAD.matcher(line);
            if (o.find()) {
                kb += Long.parseLong(o.group(1));
            }
        }
        return seen ? OptionalLong.of(kb) : OptionalLong.empty();
    }

    /**
     * kB {@code malloc} has handed out less the JVM's own share ({@link #mallocInUseKb()} − {@link #jvmMallocKb()}):
     * what libtorch, JNI and direct buffers hold. The two counts cannot be read at once, so the JVM's share is read
     * before and after glibc's and the reading is kept only when it moved by at most 256 kB meanwhile (up to 5
     * tries; else the last). Without Native Memory Tracking it is glibc's count; empty without glibc.
     */
    public static OptionalLong mallocLessJvmKb() {
        OptionalLong all = OptionalLong.empty();
        for (int attempt = 0; attempt < 5; attempt++) {
            OptionalLong jvmBefore = jvmMallocKb();
            all = mallocInUseKb();
            OptionalLong jvmAfter = jvmMallocKb();
            if (all.isEmpty() || jvmBefore.isEmpty() || jvmAfter.isEmpty()) {
                return all;
            }
            long remainder = all.getAsLong() - jvmAfter.getAsLong();
            if (Math.abs(jvmAfter.getAsLong() - jvmBefore.getAsLong()) <= 256 || attempt == 4) {
                return OptionalLong.of(remainder);
            }
        }
        return all;
    }

    /** glibc's {@code struct mallinfo2}: ten {@code size_t} fields, returned by value. */
    public static final class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;

        @Override
        protected List<String> getFieldOrder() {
            return List.of("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                    "fordblks", "keepcost");
        }
    }

    /** {start, end} of the reserved Java heap, or null when the diagnostic command does not say. */
    private static long[] heapRange() {
        try {
            Object out = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcHeapInfo",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            Matcher m = HEAP_RANGE.matcher(String.valueOf(out));
            return m.find() ? new long[] {Long.parseUnsignedLong(m.group(1).substring(2), 16),
                    Long.parseUnsignedLong(m.group(2).substring(2), 16)} : null;
        } catch (Exception e) {
            return null;
        }
    }
}
