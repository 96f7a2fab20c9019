package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PeerScript}: the script is found from a nested folder, its last stdout line is read, and every way of
 * getting no peer number is said in one status line (only --no-reference stays quiet). The "python" here is a real
 * shell script standing in for the venv's interpreter.
 */
class PeerScriptTest {
    @TempDir
    Path tmp;

    private final List<String> status = new ArrayList<>();

    private Path checkout() throws Exception {
        Path script = tmp.resolve("repo/scripts/interop/bench_peft.py");
        Files.createDirectories(script.getParent());
        Files.writeString(script, "# stand-in\n");
        return Files.createDirectories(tmp.resolve("repo/cli/target"));
    }

    private Path fakePython(String body) throws Exception {
        Path py = tmp.resolve("python");
        Files.writeString(py, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(py, PosixFilePermissions.fromString("rwxr-xr-x"));
        return py;
    }

    @Test
    void peerOnOurAllocator_namesOurs() {
        assertEquals(io.peft4j.core.ProcessMemory.allocator(), PeerScript.of(null).onOurAllocator().allocator());
        assertTrue(List.of("glibc", "tcmalloc", "jemalloc").contains(PeerScript.of(null).allocator()));
    }

    @Test
    void peerGetsBackTheUsersPreloadNotTheLaunchers() {
        Map<String, String> env = new HashMap<>(Map.of("LD_PRELOAD", "/usr/lib/libtcmalloc_minimal.so.4:/opt/a.so"));
        PeerScript.userPreload(Map.of(PeerScript.USER_PRELOAD, "/opt/a.so"), env);
        assertEquals("/opt/a.so", env.get("LD_PRELOAD"));
        PeerScript.userPreload(Map.of(PeerScript.USER_PRELOAD, ""), env);
        assertFalse(env.containsKey("LD_PRELOAD"));
        env.put("LD_PRELOAD", "/opt/mine.so");     // not started by the launcher: the environment is left as it is
        PeerScript.userPreload(Map.of(), env);
        assertEquals("/opt/mine.so", env.get("LD_PRELOAD"));
    }

    @Test
    void run_fromNestedFolder_findsScriptAndParsesLastLine() throws Exception {
        Path cwd = checkout();
        Path py = fakePython("echo \"loading $1\"; echo '{\"step_s\": 1.25, \"args\": \"'\"$2 $3\"'\"}'");
        Optional<JsonNode> r = PeerScript.of(py).run(cwd, "bench_peft.py", List.of("--model", "m.gguf"),
                "bench train", "PEFT", status::add);
        assertEquals(1.25, r.orElseThrow().get("step_s").asDouble());
        assertEquals("--model m.gguf", r.get().get("args").asText());
        assertEquals(List.of("bench train: measuring PEFT with " + py + " ..."), status);
    }

    @Test
    void run_outsideCheckout_saysScriptNotFound() throws Exception {
        Path cwd = Files.createDirectories(tmp.resolve("elsewhere"));
        Optional<JsonNode> r = PeerScript.of(fakePython("exit 0")).run(cwd, "bench_peft.py", List.of(),
                "bench train", "PEFT", status::add);
        assertTrue(r.isEmpty());
        assertEquals(1, status.size(), status.toString());
        assertTrue(status.get(0).startsWith("bench train: no PEFT ratio: scripts/interop/bench_peft.py not found in "
                + cwd + " or any parent folder"), status.get(0));
    }

    @Test
    void run_noPython_saysWhereItLooked() throws Exception {
        Path missing = tmp.resolve("venv/bin/python");
        Optional<JsonNode> r = PeerScript.of(missing).run(checkout(), "bench_peft.py", List.of(), "bench forward",
                "transformers", status::add);
        assertTrue(r.isEmpty());
        assertEquals(List.of("bench forward: no transformers ratio: no reference python at " + missing
                + " (build it with scripts/interop/setup-python.sh, or pass --python)"), status);
    }

    @Test
    void run_scriptFails_saysExitCode() throws Exception {
        Optional<JsonNode> r = PeerScript.of(fakePython("echo partial; exit 3")).run(checkout(), "bench_peft.py",
                List.of(), "bench train", "PEFT", status::add);
        assertTrue(r.isEmpty());
        assertTrue(status.get(status.size() - 1).endsWith("bench_peft.py failed (exit 3)"), status.toString());
    }

    @Test
    void run_none_isQuiet() throws Exception {
        assertTrue(PeerScript.NONE.run(checkout(), "bench_peft.py", List.of(), "bench train", "PEFT", status::add)
                .isEmpty());
        assertTrue(status.isEmpty(), status.toString());
    }

    @Test
    void start_alternatesStepsOverStdinAndReadsTheSummary() throws Exception {
        Path py = fakePython("echo loading; echo '{\"ready\": true}'; n=0\n"
                + "while read l; do [ \"$l\" = step ] || break; n=$((n+1)); echo \"{\\\"step_s\\\": $n.5}\"; done\n"
                + "echo \"{\\\"step_s\\\": 2.0, \\\"steps\\\": $n, \\\"args\\\": \\\"$2\\\"}\"");
        try (PeerScript.Session s = PeerScript.of(py).start(checkout(), "bench_peft.py", List.of("--alternate"),
                "bench train", "PEFT", status::add).orElseThrow()) {
            assertEquals(1.5, s.step());
            assertEquals(2.5, s.step());
            JsonNode summary = s.finish();
            assertEquals(2, summary.get("steps").asInt());
            assertEquals("--alternate", summary.get("args").asText());
        }
        assertEquals(List.of("bench train: measuring PEFT with " + py + " ..."), status);
    }

    @Test
    void start_peerThatExitsBeforeReady_isEmptyWithAStatusLine() throws Exception {
        Optional<PeerScript.Session> s = PeerScript.of(fakePython("echo 'Traceback'; exit 1")).start(checkout(),
                "bench_peft.py", List.of(), "bench train", "PEFT", status::add);
        assertTrue(s.isEmpty());
        assertEquals(2, status.size(), status.toString());
        assertTrue(status.get(1).startsWith("bench train: no PEFT ratio: ")
                && status.get(1).endsWith("bench_peft.py ended before it was ready (exit 1)"), status.get(1));
    }

    @Test
    void step_peerThatDiesMidway_throwsNamingTheScript() throws Exception {
        Path py = fakePython("echo '{\"ready\": true}'; read l; exit 4");
        try (PeerScript.Session s = PeerScript.of(py).start(checkout(), "bench_peft.py", List.of(), "bench train",
                "PEFT", status::add).orElseThrow()) {
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, s::step);
            assertTrue(e.getMessage().endsWith("bench_peft.py ended before a step's time (exit 4)"), e.getMessage());
        }
    }
}
