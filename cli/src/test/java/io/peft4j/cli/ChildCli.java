package io.peft4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the {@code peft4j} command line in a child JVM on the test classpath (a second process for lock tests, a
 * JVM that {@code CrashPoint} may halt for crash tests); its output goes to a log file.
 */
final class ChildCli {
    private static final List<String> FORWARDED = List.of("ai.djl.offline", "ai.djl.pytorch.graph_optimizer",
            "org.slf4j.simpleLogger.defaultLogLevel", "ai.djl.default_engine");

    private ChildCli() {
    }

    /** Starts {@code peft4j args} with extra system properties {@code props}; stdout and stderr go to {@code log}. */
    static Process start(Path log, Map<String, String> props, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xss4m");
        for (String key : FORWARDED) {
            if (System.getProperty(key) != null) {
                cmd.add("-D" + key + "=" + System.getProperty(key));
            }
        }
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Peft4jCommand.class.getName());
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Runs to the end and returns the exit code. */
    static int run(Path log, Map<String, String> props, List<String> args) throws Exception {
        Process p = start(log, props, args);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "child finished; log: " + log);
        return p.exitValue();
    }

    /** Waits until a child paused by {@code -Dpeft4j.pauseFile=go} has reached its pause point (or died). */
    static void awaitPause(Process p, Path go, Path log) throws Exception {
        Path reached = go.resolveSibling(go.getFileName() + ".reached");
        while (!Files.exists(reached)) {
            assertTrue(p.isAlive(), "child died before its pause point: " + Files.readString(log));
            Thread.sleep(50);
        }
    }
}
