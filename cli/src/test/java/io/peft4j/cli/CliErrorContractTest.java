package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI's message conventions without a model: {@code COMMAND --help} exits 0 everywhere, a bad option value is one
 * line naming the flag as typed plus "see --help", and {@code --json} adds {@code {"error", "exit_code"}} on stdout.
 */
class CliErrorContractTest {
    @TempDir
    Path tmp;

    @Test
    void help_onEverySubcommand_printsUsageAndExits0() {
        List<List<String>> commands = new ArrayList<>();
        collect(new CommandLine(new Peft4jCommand()), new ArrayList<>(), commands);
        assertTrue(commands.size() >= 14, "subcommands found: " + commands);
        for (List<String> path : commands) {
            for (String flag : new String[] {"--help", "-h"}) {
                List<String> args = new ArrayList<>(path);
                args.add(flag);
                CliRun r = CliRun.of(args.toArray(new String[0]));
                assertEquals(0, r.code(), args + ": " + r.err());
                assertTrue(r.out().contains("Usage: peft4j " + String.join(" ", path)), args + ": " + r.out());
            }
        }
    }

    private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
        cl.getSubcommands().forEach((name, sub) -> {
            List<String> p = new ArrayList<>(path);
            p.add(name);
            out.add(p);
            collect(sub, p, out);
        });
    }

    @Test
    void badOptionValue_oneLineNamingTheFlagAndHelp_noUsage() {
        assertOneLine(CliRun.of("generate", "--model", "m", "--prompt", "a", "--top-p", "abc"), "--top-p");
        assertOneLine(CliRun.of("generate", "--model", "m", "--prompt", "a", "--top-p", "2"), "--top-p");
        assertOneLine(CliRun.of("generate", "--model", "m", "--prompt", "a", "--max-new-tokens", "-1"),
                "--max-new-tokens");
        assertOneLine(CliRun.of("generate", "--model", "m", "--prompt", "a", "--temperature", "-0.5"), "--temperature");
        assertOneLine(CliRun.of("eval", "--model", "m", "--data", "d", "--max-length", "x"), "--max-length");
        assertOneLine(CliRun.of("eval", "--model", "m", "--data", "d", "--stride", "0"), "--stride");
        assertOneLine(CliRun.of("generate", "--model", "m", "--prompt", "a", "--no-such-flag"), "--no-such-flag");
        assertOneLine(CliRun.of("data", "--data", "d", "--tokenizer", "t", "--max-seq-len", "0"), "--max-seq-len");
    }

    private static void assertOneLine(CliRun r, String flag) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("peft4j: ") && lines[0].contains(flag), r.err());
        assertTrue(lines[0].contains("see ") && lines[0].contains("--help"), r.err());
        assertFalse(r.err().contains("Usage:") || r.out().contains("Usage:"), r.err());
        assertFalse(lines[0].matches(".*\\b(topP|maxNewTokens|maxLength|maxSeqLen)\\b.*"), r.err());
    }

    @Test
    void json_errorAlsoPrintsOneJsonObjectOnStdout() throws Exception {
        CliRun r = CliRun.of("eval", "--model", tmp.resolve("nope").toString(), "--data",
                tmp.resolve("nope.txt").toString(), "--json");
        assertEquals(2, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals(2, j.get("exit_code").asInt());
        assertTrue(j.get("error").asText().contains("nope.txt"), j.toString());
        assertEquals(1, r.out().strip().split("\n").length, r.out());

        CliRun p = CliRun.of("generate", "--model", "m", "--prompt", "a", "--top-k", "many", "--json");
        assertEquals(2, p.code());
        assertTrue(p.json().get("error").asText().contains("--top-k"), p.out());
    }

    @Test
    void eval_directoryAsData_oneLineExit2() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("adir"));
        CliRun r = CliRun.of("eval", "--model", "m", "--data", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
        assertTrue(r.err().contains("is a directory"), r.err());
    }

    @Test
    void jsonOption_nonFiniteNumbers_becomeNullNeverStrings() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("loss", Double.NaN);
        m.put("list", List.of(1.5, Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY));
        m.put("ok", 2.0);
        assertEquals("{loss=null, list=[1.5, null, null], ok=2.0}", String.valueOf(JsonOption.finite(m)));
    }
}
