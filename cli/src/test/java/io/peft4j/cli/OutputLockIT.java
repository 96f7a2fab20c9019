package io.peft4j.cli;

import io.peft4j.core.io.CrashPoint;
import io.peft4j.core.io.OutputLock;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two runs on one {@code --output}: a child process is held (through {@link CrashPoint}'s pause) right after it
 * took the output lock; the same command run here then exits 2 naming the child's PID, and the child, released,
 * finishes its output intact.
 */
class OutputLockIT {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"finetune", "merge", "quantize"})
    void secondRunOnSameOutput_exit2NamingHolderPid(String command) throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("model"), TinyModelFolder.TINY, 5);
        Path out = tmp.resolve("out");
        List<String> args = switch (command) {
            case "finetune" -> TinyRun.finetune(model, TinyRun.data(tmp.resolve("d.jsonl")), out, 2, 2);
            case "merge" -> List.of("merge", "--model", model.toString(), "--adapter",
                    TinyRun.adapter(tmp.resolve("adapter")).toString(), "--output", out.toString());
            default -> List.of("quantize", "--model", model.toString(), "--output", out.toString());
        };
        Path go = tmp.resolve("go");
        Path log = tmp.resolve("child.log");
        Process child = ChildCli.start(log, Map.of("peft4j.pauseAt", OutputLock.ACQUIRED, "peft4j.pauseFile",
                go.toString()), args);
        try {
            ChildCli.awaitPause(child, go, log);
            CliRun second = CliRun.of(args.toArray(String[]::new));
            assertEquals(2, second.code(), second.err());
            assertTrue(second.err().contains("PID " + child.pid()) && second.err().contains("in use"), second.err());
        } finally {
            Files.writeString(go, "go");
        }
        assertTrue(child.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, child.exitValue(), Files.readString(log));
        String produced = command.equals("finetune") ? "adapter_model.safetensors" : "model.safetensors";
        assertTrue(Files.isRegularFile(out.resolve(produced)), "the first run's output is complete");
        CliRun third = CliRun.of(args.toArray(String[]::new));
        assertEquals(command.equals("finetune") ? 2 : 0, third.code(), "lock released (finetune refuses the "
                + "non-empty output instead): " + third.err());
    }
}
