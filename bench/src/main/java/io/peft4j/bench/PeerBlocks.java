package io.peft4j.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The step schedule of a training bench whose peer (PEFT) runs in the same session: our steps and the peer's
 * alternate in blocks, so that a drift in the machine's speed hits both sides alike, and each block starts with one
 * untimed step, so that neither side is timed on the step that follows the other side's (on the VM this was
 * measured on, a process that sat idle between steps ran its next PEFT LoRA step 5-25 % slower). After our
 * warm-up (the peer warmed up before it said it was ready): {@link #BLOCK} timed steps of ours, then the peer's
 * re-warm step and {@code BLOCK} timed ones, then ours again (re-warm + {@code BLOCK}), until each side has at least
 * the asked-for timed steps. Without a peer it is the plain schedule: one warm-up, then {@code steps} timed steps. A
 * peer that fails mid-way is dropped with a status line; our measurement goes on alone. Not thread-safe.
 *
 * <pre>{@code
 * PeerBlocks plan = new PeerBlocks(session, 5, System.err::println);
 * for (int step = 1; step <= plan.ourSteps(); step++) { time it if plan.timed(step); plan.afterStep(step); }
 * Optional<Double> theirs = plan.peerMedianSeconds();
 * }</pre>
 */
final class PeerBlocks {
    /** Timed steps per block and side. */
    static final int BLOCK = 2;

    private PeerScript.Session session;
    private final int steps;
    private final int rounds;
    private final Consumer<String> status;
    private final List<Double> peerTimes = new ArrayList<>();

    /**
     * @param session the ready peer, or null for none
     * @param steps   timed steps wanted per side (at least 1)
     */
    PeerBlocks(PeerScript.Session session, int steps, Consumer<String> status) {
        this.session = session;
        this.steps = steps;
        this.rounds = rounds(steps);
        this.status = status;
    }

    /** Our optimizer steps in all, warm-up and re-warm steps included. */
    int ourSteps() {
        return session == null ? steps + 1 : 1 + rounds * BLOCK + (rounds - 1);
    }

    /** Batches of data that cover either side's steps for {@code steps} timed steps (the peer's warm-up included). */
    static int batchesNeeded(int steps) {
        return 1 + rounds(steps) * (BLOCK + 1);
    }

    /** Blocks per side that give at least {@code steps} timed steps. */
    private static int rounds(int steps) {
        return (steps + BLOCK - 1) / BLOCK;
    }

    /** Whether our step {@code step} (1 = the warm-up) is timed. */
    boolean timed(int step) {
        if (step <= 1) {
            return false;
        }
        if (session == null) {
            return true;
        }
        int after = step - 2 - BLOCK;    // steps after our first block
        return after < 0 || after % (BLOCK + 1) != 0;
    }

    /** Runs the peer's block when our step {@code step} ended one of ours (the last one included). */
    void afterStep(int step) {
        if (session == null || step < 1 + BLOCK || (step - 1 - BLOCK) % (BLOCK + 1) != 0) {
            return;
        }
        try {
            session.step();                                 // re-warm, untimed
            for (int i = 0; i < BLOCK; i++) {
                peerTimes.add(session.step());
            }
        } catch (IOException e) {
            drop(e);
        }
    }

    /** The upper median of the peer's timed steps; empty when there was no peer or it failed. */
    Optional<Double> peerMedianSeconds() {
        if (session == null || peerTimes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Medians.upper(peerTimes.stream().mapToDouble(Double::doubleValue).toArray()));
    }

    /** Ends the peer: its summary line (peak RSS); empty when there was no peer or it failed. */
    Optional<JsonNode> finish() throws InterruptedException {
        if (session == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(session.finish());
        } catch (IOException e) {
            drop(e);
            return Optional.empty();
        }
    }

    private void drop(IOException e) {
        status.accept(e.getMessage());
        session.close();
        session = null;
    }
}
