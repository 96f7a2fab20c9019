package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.ProcessMemory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A peer measurement in Python ({@code scripts/interop/bench_*.py} run with the reference venv's python): the
 * script is found by walking up from the working directory, run with the bench's shapes, and the last line of its
 * stdout read as one JSON object ({@link #run}), or kept running as a {@link Session} whose steps the caller
 * interleaves with its own ({@link #start}). Whenever no peer number comes back, a status line says why (script not
 * found from this folder, no reference python, script failed), so a missing {@code ratio_*} key is never silent;
 * only {@link #NONE} (the user's {@code --no-reference}) stays quiet. Stateless and thread-safe (a session is not).
 *
 * <pre>{@code
 * Optional<JsonNode> ref = PeerScript.of(null).run("bench_peft.py", List.of("--model", gguf.toString()),
 *         "bench train", "PEFT", System.err::println);
 * double theirs = ref.map(j -> j.get("step_s").asDouble()).orElse(Double.NaN);
 * }</pre>
 */
public final class PeerScript {
    /** No peer measurement (and no status line about it). */
    public static final PeerScript NONE = new PeerScript(null, false, false);

    private static final String FOLDER = "scripts/interop/";
    /** Set by the {@code peft4j} launcher to the user's {@code LD_PRELOAD} when it preloads an allocator. */
    static final String USER_PRELOAD = "PEFT4J_USER_LD_PRELOAD";

    private final Path python;
    private final boolean enabled;
    private final boolean ourAllocator;

    private PeerScript(Path python, boolean enabled, boolean ourAllocator) {
        this.python = python;
        this.enabled = enabled;
        this.ourAllocator = ourAllocator;
    }

    /** A peer run with {@code python}, or with the venv of {@code scripts/interop/setup-python.sh} when null. */
    public static PeerScript of(Path python) {
        return new PeerScript(python != null ? python
                : Paths.get(System.getProperty("user.home"), ".cache", "peft4j", "venv", "bin", "python"), true, false);
    }

    /**
     * This peer, run on the C allocator the launcher preloaded for us (e.g. tcmalloc) instead of the user's own, so
     * that both sides of a comparison free and reuse memory the same way.
     */
    public PeerScript onOurAllocator() {
        return new PeerScript(python, enabled, true);
    }

    /** The C allocator the peer runs on: {@code glibc}, {@code tcmalloc} or {@code jemalloc}. */
    public String allocator() {
        if (ourAllocator) {
            return ProcessMemory.allocator();
        }
        String user = System.getenv(USER_PRELOAD);
        return ProcessMemory.allocatorPreloadedBy(user != null ? user : System.getenv().getOrDefault("LD_PRELOAD", ""));
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
        Optional<List<String>> cmd = command(cwd, script, args, bench, peer, status);
        if (cmd.isEmpty()) {
            return Optional.empty();
        }
        Process p = launch(cmd.get());
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0 || stdout.isBlank()) {
            status.accept(bench + ": no " + peer + " ratio: " + cmd.get().get(1) + " failed (exit " + p.exitValue()
                    + ")");
            return Optional.empty();
        }
        return Optional.of(lastLine(stdout));
    }

    /**
     * Starts {@code script} with {@code args} as a {@link Session} whose steps the caller interleaves with its own,
     * and waits until the script says it is ready (model built, warm-up step done); empty, after a status line, when
     * it cannot run or exits before that.
     */
    public Optional<Session> start(String script, List<String> args, String bench, String peer,
                                   Consumer<String> status) throws IOException {
        return start(Paths.get("").toAbsolutePath(), script, args, bench, peer, status);
    }

    /** {@link #start(String, List, String, String, Consumer)} looking for the script from {@code cwd} upwards. */
    Optional<Session> start(Path cwd, String script, List<String> args, String bench, String peer,
                            Consumer<String> status) throws IOException {
        Optional<List<String>> cmd = command(cwd, script, args, bench, peer, status);
        if (cmd.isEmpty()) {
            return Optional.empty();
        }
        Session s = new Session(launch(cmd.get()), bench + ": no " + peer + " ratio: " + cmd.get().get(1));
        try {
            s.awaitReady();
            return Optional.of(s);
        } catch (IOException e) {
            s.close();
            status.accept(e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Starts the peer with its stderr discarded and the C allocator the user chose: when the {@code peft4j} launcher
     * preloaded one for us, it names the user's own {@code LD_PRELOAD} in {@value #USER_PRELOAD}, and the peer gets
     * that back, so PEFT runs as it would outside peft4j (unless {@link #onOurAllocator()}).
     */
    private Process launch(List<String> cmd) throws IOException {
        ProcessBuilder b = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        if (!ourAllocator) {
            userPreload(System.getenv(), b.environment());
        }
        return b.start();
    }

    /** Restores in a peer's {@code env} the {@code LD_PRELOAD} the user had before the launcher added its own. */
    static void userPreload(Map<String, String> ours, Map<String, String> env) {
        String user = ours.get(USER_PRELOAD);
        if (user == null) {
            return;
        }
        if (user.isEmpty()) {
            env.remove("LD_PRELOAD");
        } else {
            env.put("LD_PRELOAD", user);
        }
    }

    /** The peer's command line, or empty after a status line saying why there is none. */
    private Optional<List<String>> command(Path cwd, String script, List<String> args, String bench, String peer,
                                           Consumer<String> status) {
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
        return Optional.of(cmd);
    }

    private static JsonNode lastLine(String stdout) throws IOException {
        String[] lines = stdout.strip().split("\n");
        return Json.MAPPER.readTree(lines[lines.length - 1]);
    }

    /**
     * A running peer that takes one step per request, so that its steps alternate with the caller's and load on the
     * machine hits both alike. The protocol is JSON lines on stdout: {@code {"ready": true}} once, then one
     * {@code {"step_s": S}} per {@code step} line the script reads on stdin; when stdin closes it prints its summary
     * as the last line and exits. Not thread-safe; closing kills a peer still running.
     */
    public static final class Session implements AutoCloseable {
        private final Process process;
        private final String failure;
        private final BufferedReader out;
        private final Writer in;

        private Session(Process process, String failure) {
            this.process = process;
            this.failure = failure;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        private JsonNode next(String waitingFor) throws IOException {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("{")) {
                    return Json.MAPPER.readTree(line);
                }
            }
            throw new IOException(failure + " ended before " + waitingFor + " (exit " + exitValue() + ")");
        }

        private String exitValue() {
            try {
                return process.waitFor(10, TimeUnit.SECONDS) ? "" + process.exitValue() : "none yet";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "unknown";
            }
        }

        private void awaitReady() throws IOException {
            if (!next("it was ready").path("ready").asBoolean(false)) {
                throw new IOException(failure + " did not say it was ready first");
            }
        }

        /** Runs one peer step and returns its seconds (as the peer timed it). */
        public double step() throws IOException {
            in.write("step\n");
            in.flush();
            JsonNode r = next("a step's time");
            if (!r.path("step_s").isNumber()) {
                throw new IOException(failure + " answered a step with " + r);
            }
            return r.get("step_s").asDouble();
        }

        /** Ends the session: the peer's summary line. */
        public JsonNode finish() throws IOException, InterruptedException {
            in.close();
            StringBuilder rest = new StringBuilder();
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                rest.append(line).append('\n');
            }
            if (process.waitFor() != 0 || rest.toString().isBlank()) {
                throw new IOException(failure + " failed at the end (exit " + process.exitValue() + ")");
            }
            return lastLine(rest.toString());
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
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
