package io.peft4j.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * This process's resident memory as Linux reports it in {@code /proc/self/status}: {@code VmRSS} (now) and
 * {@code VmHWM} (the peak so far), JVM heap, native libtorch memory and mapped files together. Empty where the
 * file does not exist (non-Linux).
 *
 * <pre>{@code
 * long peakMb = ProcessMemory.peakRssBytes().orElse(-1) >> 20;
 * long nowMb = ProcessMemory.rssBytes().orElse(-1) >> 20;
 * long outsideHeapMb = ProcessMemory.nativeRssBytes().orElse(-1) >> 20;
 * String malloc = ProcessMemory.allocator();   // "glibc", "tcmalloc" or "jemalloc"
 * }</pre>
 *
 * @since 0.1.0
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
    private static final Path MAPS = Path.of("/proc/self/maps");

    private ProcessMemory() {
    }

    /** Peak resident set size ({@code VmHWM}) in bytes. */
    public static OptionalLong peakRssBytes() {
        return field("VmHWM:");
    }

    /** Current resident set size ({@code VmRSS}) in bytes. */
    public static OptionalLong rssBytes() {
        return field("VmRSS:");
    }

    /**
     * Resident memory outside the Java heap: {@code VmRSS} minus the heap the JVM has committed. Heap pages the JVM
     * keeps committed are not native memory, so this removes the GC sawtooth; call it right after a GC for a settled
     * value. Counts libtorch tensors, JVM metadata and mapped files.
     */
    public static OptionalLong nativeRssBytes() {
        OptionalLong rss = rssBytes();
        return rss.isPresent() ? OptionalLong.of(rss.getAsLong() - Runtime.getRuntime().totalMemory()) : rss;
    }

    /**
     * Resets the peak ({@code VmHWM}) to the current RSS (Linux {@code clear_refs} value 5), so the next
     * {@link #peakRssBytes()} covers only what runs after this call; false where that is not possible.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /**
     * The C allocator behind {@code malloc} in this process, which decides how much freed tensor memory stays
     * resident: {@code "tcmalloc"} or {@code "jemalloc"} when such a library is mapped (the {@code peft4j} launcher
     * preloads tcmalloc for training commands), else {@code "glibc"}; {@code "unknown"} where {@code /proc} is
     * missing.
     */
    public static String allocator() {
        try (var lines = Files.lines(MAPS)) {
            return lines.map(ProcessMemory::allocatorOf).filter(a -> a != null).findFirst().orElse("glibc");
        } catch (IOException | java.io.UncheckedIOException | SecurityException e) {
            return "unknown";
        }
    }

    /**
     * The allocator a preload list brings in ({@code LD_PRELOAD}: library paths separated by {@code ':'} or spaces),
     * named as {@link #allocator()} names it; {@code "glibc"} when it brings in none.
     */
    public static String allocatorPreloadedBy(String ldPreload) {
        for (String library : ldPreload.split("[: ]+")) {
            String a = allocatorOf(library);
            if (a != null) {
                return a;
            }
        }
        return "glibc";
    }

    /** The allocator a {@code /proc/self/maps} line (or a library path) maps, or null. */
    static String allocatorOf(String mapsLine) {
        String file = mapsLine.substring(mapsLine.lastIndexOf('/') + 1);
        return file.startsWith("libtcmalloc") ? "tcmalloc" : file.startsWith("libjemalloc") ? "jemalloc" : null;
    }

    private static OptionalLong field(String key) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(key)) {
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
