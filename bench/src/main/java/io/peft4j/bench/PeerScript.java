package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A peer measurement in Python ({@code scripts/interop/bench_*.py} run with the reference venv's python): the
 * script is found by walking up from the working directory, run with the bench's shapes, and the last line of its
 * stdout read as one JSON object. Whenever no peer number comes back, a status line says why (script not found
 * from this folder, no reference python, script failed), so a missing {@code ratio_*} key is never silent; only
 * {@link #NONE} (the user's {@code --no-reference}) stays quiet. Stateless and thread-safe.
 *
 * <pre>{@code
 * Optional<JsonNode> ref = PeerScript.of(null).run("bench_peft.py", List.of("--model", gguf.toString()),
 *         "bench train", "PEFT", System.err::println);
 * double theirs = ref.map(j -> j.get("step_s").asDouble()).orElse(Double.NaN);
 * }</pre>
 */
public final class PeerScript {
    /** No peer measurement (and no status line about it). */
    public static final PeerScript NONE = new PeerScript(null, false);

    private static final String FOLDER = "scripts/interop/";

    private final Path python;
    private final boolean enabled;

    private PeerScript(Path python, boolean enabled) {
        this.python = python;
        this.enabled = enabled;
    }

    /** A peer run with {@code python}, or with the venv of {@code scripts/interop/setup-python.sh} when null. */
    public static PeerScript of(Path python) {
        return new PeerScript(python != null ? python
                : Paths.get(System.getProperty("user.home"), ".cache", "peft4j", "venv", "bin", "python"), true);
    }

    /**
     * Runs {@code script} (a file name under {@code scripts/interop/}) with {@code args}; empty, after a status line
     * naming {@code bench} and {@code peer}, when it cannot run or fails. Its stderr is discarded.
     */
    public Optional<JsonNode> run(String script, List<String> args, String bench, String peer,
                                  Consumer<String> status) throws IOException, InterruptedException {
        return run(Paths.get("").toAbsolutePath(), script, args, bench, peer, status);
    }

    /** {@link #run(String, List, String, String, Consumer)} looking for the script from {@code cwd} upwards. */
    Optional<JsonNode> run(Path cwd, String script, List<String> args, String bench, String peer,
                           Consumer<String> status) throws IOException, InterruptedException {
        if (!enabled) {
            return Optional.empty();
        }
        Path file = find(cwd, FOLDER + script);
        if (file == null) {
            status.accept(bench + ": no " + peer + " ratio: " + FOLDER + script + " not found in " + cwd
                    + " or any parent folder (run from a peft4j checkout)");
            return Optional.empty();
        }
        if (!Files.isExecutable(python)) {
            status.accept(bench + ": no " + peer + " ratio: no reference python at " + python
                    + " (build it with scripts/interop/setup-python.sh, or pass --python)");
            return Optional.empty();
        }
        status.accept(bench + ": measuring " + peer + " with " + python + " ...");
        List<String> cmd = new ArrayList<>(List.of(python.toString(), file.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || stdout.isBlank()) {
            status.accept(bench + ": no " + peer + " ratio: " + file + " failed (exit " + p.exitValue() + ")");
            return Optional.empty();
        }
        String[] lines = stdout.strip().split("\n");
        return Optional.of(Json.MAPPER.readTree(lines[lines.length - 1]));
    }

    /** {@code relative} resolved against {@code dir} or its nearest parent that has it; null when none has. */
    static Path find(Path dir, String relative) {
        for (Path d = dir; d != null; d = d.getParent()) {
            Path s = d.resolve(relative);
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        return null;
    }
}
