package io.peft4j.core.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates the data integration tests need: {@code ../shared} (system property {@code peft4j.shared} or env
 * {@code PEFT4J_SHARED}, default {@code ../shared}, resolved against the working folder and its parents) and the
 * real test model ({@code PEFT4J_TEST_MODEL}). When absent a test is skipped with a clear message, unless
 * {@code PEFT4J_REQUIRE_SHARED=1}, where it fails instead (CI).
 *
 * <pre>{@code
 * Path alpaca = TestResources.shared("datasets/alpaca-subset/alpaca_5000.json");
 * Path gguf = TestResources.testModel();
 * }</pre>
 */
public final class TestResources {
    private TestResources() {
    }

    /** A file or folder under the shared data folder; skips (or fails in CI) when it is missing. */
    public static Path shared(String relative) {
        Path root = sharedRoot();
        Path p = root == null ? null : root.resolve(relative);
        if (p == null || !Files.exists(p)) {
            missing("shared file '" + relative + "' not found (set PEFT4J_SHARED; looked in "
                    + (root == null ? setting("peft4j.shared", "PEFT4J_SHARED", "../shared") : root) + ")");
        }
        return p;
    }

    /** The SmolLM2-135M-Instruct GGUF from {@code scripts/fetch-test-models.sh}. */
    public static Path testModel() {
        String v = setting("peft4j.test.model", "PEFT4J_TEST_MODEL", null);
        Path p = v == null ? defaultModel() : Paths.get(v);
        if (p == null || !Files.isRegularFile(p)) {
            missing("test model not found: run scripts/fetch-test-models.sh and set PEFT4J_TEST_MODEL"
                    + (v == null ? "" : " (was " + v + ")"));
        }
        return p;
    }

    /** The reference venv's python ({@code scripts/interop/setup-python.sh}); skips/fails when absent. */
    public static Path referencePython() {
        String v = setting("peft4j.python", "PEFT4J_PYTHON", null);
        Path p = v != null ? Paths.get(v)
                : Paths.get(System.getProperty("user.home"), ".cache", "peft4j", "venv", "bin", "python");
        if (!Files.isExecutable(p)) {
            missing("reference python venv not found at " + p + ": run scripts/interop/setup-python.sh");
        }
        return p;
    }

    /** The repository root (the folder holding {@code scripts/}), found from the working folder upwards. */
    public static Path repoRoot() {
        Path dir = Paths.get("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("scripts")) && Files.isRegularFile(d.resolve("pom.xml"))) {
                return d;
            }
        }
        throw new IllegalStateException("repository root not found above " + dir);
    }

    public static boolean requireShared() {
        return "1".equals(setting("peft4j.require.shared", "PEFT4J_REQUIRE_SHARED", "0"));
    }

    private static Path defaultModel() {
        Path p = Paths.get(System.getProperty("user.home"), ".cache", "peft4j", "models",
                "SmolLM2-135M-Instruct.Q4_1.gguf");
        return Files.isRegularFile(p) ? p : null;
    }

    private static Path sharedRoot() {
        Path configured = Paths.get(setting("peft4j.shared", "PEFT4J_SHARED", "../shared"));
        if (configured.isAbsolute()) {
            return Files.isDirectory(configured) ? configured : null;
        }
        for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve(configured).normalize();
            if (Files.isDirectory(candidate.resolve("datasets"))) {
                return candidate;
            }
        }
        return null;
    }

    private static String setting(String property, String env, String fallback) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? fallback : v;
    }

    private static void missing(String message) {
        if (requireShared()) {
            throw new AssertionError(message + " [PEFT4J_REQUIRE_SHARED=1]");
        }
        Assumptions.abort("skipped: " + message);
    }
}
