package io.peft4j.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points between the writes and renames of a save, where a crash test can stop the JVM as a {@code kill -9}
 * would. Inert unless a system property asks for it:
 * <ul>
 *   <li>{@code -Dpeft4j.crashAt=POINT} or {@code POINT#N} halts the JVM ({@link Runtime#halt}, exit code
 *   {@value #HALT_CODE}: no shutdown hooks, no finally blocks) at the first (or N-th) time {@code POINT} is reached;</li>
 *   <li>{@code -Dpeft4j.pauseAt=POINT -Dpeft4j.pauseFile=F} creates {@code F.reached} at {@code POINT} and waits
 *   until {@code F} exists, so a test can act while the process is held there (e.g. while it holds a lock).</li>
 * </ul>
 * Thread-safe; costs one property read per point.
 *
 * <pre>{@code
 * new ProcessBuilder("java", "-Dpeft4j.crashAt=" + AtomicFolder.OLD_ASIDE, "-cp", cp, "io.peft4j.cli.Peft4jCommand",
 *         "merge", "--model", m, "--adapter", a, "--output", out).start().waitFor();  // exit 86, out half-swapped
 * }</pre>
 *
 * @since 0.1.0
 */
public final class CrashPoint {
    /** Exit code of a JVM halted at a crash point. */
    public static final int HALT_CODE = 86;
    private static final Map<String, AtomicInteger> HITS = new ConcurrentHashMap<>();

    private CrashPoint() {
    }

    /** Marks that {@code point} was reached; halts or pauses the JVM when the system properties ask for it. */
    public static void reach(String point) {
        String crash = System.getProperty("peft4j.crashAt");
        if (crash != null && matches(crash, point)) {
            Runtime.getRuntime().halt(HALT_CODE);
        }
        String pause = System.getProperty("peft4j.pauseAt");
        String file = System.getProperty("peft4j.pauseFile");
        if (pause != null && file != null && pause.equals(point)) {
            await(Path.of(file));
        }
    }

    private static boolean matches(String spec, String point) {
        int hash = spec.lastIndexOf('#');
        String name = hash < 0 ? spec : spec.substring(0, hash);
        if (!name.equals(point)) {
            return false;
        }
        int wanted = hash < 0 ? 1 : Integer.parseInt(spec.substring(hash + 1));
        return HITS.computeIfAbsent(point, p -> new AtomicInteger()).incrementAndGet() == wanted;
    }

    private static void await(Path go) {
        try {
            Files.writeString(go.resolveSibling(go.getFileName() + ".reached"), Long.toString(ProcessHandle.current()
                    .pid()));
            while (!Files.exists(go)) {
                Thread.sleep(20);
            }
        } catch (IOException e) {
            throw new IllegalStateException("pause file " + go + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
