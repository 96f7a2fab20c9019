package io.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.peft4j.cli.TinyModelFolder.TINY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code generate} with a prompt longer than the context window (128 tokens on the tiny model). */
class GenerateContextWindowTest {
    @TempDir
    Path tmp;

    @Test
    void generate_promptBeyondWindow_exit2WithTokensAndLimit_orTruncatedOnRequest() throws Exception {
        String model = TinyModelFolder.write(tmp.resolve("dense"), TINY, 5).toString();
        String prompt = "a b c d e f g ".repeat(30).strip();     // 210 tokens
        CliRun refused = CliRun.of("generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "4", "--json");
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().contains("prompt of 210 tokens exceeds the model's context window of 128 tokens"),
                refused.err());
        CliRun truncated = CliRun.of("generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "4",
                "--truncate-prompt", "--json");
        assertEquals(0, truncated.code(), truncated.err());
        assertEquals(4, truncated.json().get("tokens").asInt());
    }
}
