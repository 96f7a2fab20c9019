package io.peft4j.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PeerBlocks}: which of our steps are timed, when the peer's blocks run, and that the peer's re-warm steps
 * are left out of its median. The peer is a real shell script speaking the session protocol; its n-th step
 * "takes" n + 0.5 s.
 */
class PeerBlocksTest {
    @TempDir
    Path tmp;

    private final List<String> status = new ArrayList<>();

    private PeerScript.Session peer() throws Exception {
        Path script = tmp.resolve("repo/scripts/interop/bench_peft.py");
        Files.createDirectories(script.getParent());
        Files.writeString(script, "# stand-in\n");
        Path py = tmp.resolve("python");
        Files.writeString(py, "#!/bin/sh\necho '{\"ready\": true}'; n=0\n"
                + "while read l; do n=$((n+1)); echo \"{\\\"step_s\\\": $n.5}\"; done\necho \"{\\\"steps\\\": $n}\"\n");
        Files.setPosixFilePermissions(py, PosixFilePermissions.fromString("rwxr-xr-x"));
        return PeerScript.of(py).start(tmp.resolve("repo"), "bench_peft.py", List.of(), "bench train", "PEFT",
                status::add).orElseThrow();
    }

    @Test
    void withoutPeer_oneWarmUpThenEveryStepTimed() throws Exception {
        PeerBlocks plan = new PeerBlocks(null, 3, status::add);
        assertEquals(4, plan.ourSteps());
        assertFalse(plan.timed(1));
        assertTrue(plan.timed(2) && plan.timed(3) && plan.timed(4));
        plan.afterStep(3);
        assertEquals(Optional.empty(), plan.peerMedianSeconds());
        assertEquals(Optional.empty(), plan.finish());
    }

    @Test
    void withPeer_blocksAlternateAndReWarmStepsAreNotTimed() throws Exception {
        try (PeerScript.Session session = peer()) {
            PeerBlocks plan = new PeerBlocks(session, 3, status::add);
            // ours: warm-up 1, block 2-3, re-warm 4, block 5-6; the peer's blocks follow steps 3 and 6
            assertEquals(6, plan.ourSteps());
            List<Integer> timed = new ArrayList<>();
            for (int step = 1; step <= plan.ourSteps(); step++) {
                if (plan.timed(step)) {
                    timed.add(step);
                }
                plan.afterStep(step);
            }
            assertEquals(List.of(2, 3, 5, 6), timed);
            // the peer ran 6 steps: 1 and 4 re-warm, 2.5 3.5 5.5 6.5 timed; upper median 5.5
            assertEquals(Optional.of(5.5), plan.peerMedianSeconds());
            assertEquals(6, plan.finish().orElseThrow().get("steps").asInt());
            assertEquals(PeerBlocks.batchesNeeded(3), 1 + 6);
        }
    }
}
