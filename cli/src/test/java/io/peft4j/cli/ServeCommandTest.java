package io.peft4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j serve} refuses bad options with one line naming the flag, before loading anything. */
class ServeCommandTest {
    @Test
    void badOptions_oneLineExit2NamingTheFlag() {
        assertRefused(CliRun.of("serve", "--model", "m", "--max-batch", "0"), "--max-batch");
        assertRefused(CliRun.of("serve", "--model", "m", "--max-queue", "-1"), "--max-queue");
        assertRefused(CliRun.of("serve", "--model", "m", "--port", "70000"), "--port");
        assertRefused(CliRun.of("serve", "--model", "m", "--adapter", "no-equals-sign"), "--adapter");
        assertRefused(CliRun.of("serve", "--model", "m", "--adapter-root", "/no/such/folder"), "--adapter-root");
    }

    private static void assertRefused(CliRun r, String flag) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].contains(flag), r.err());
    }
}
