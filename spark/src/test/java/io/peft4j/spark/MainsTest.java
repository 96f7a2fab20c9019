package io.peft4j.spark;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spark-submit mains: {@code --help} lists the options; bad options exit 2 before any Spark session starts. */
class MainsTest {
    @Test
    void help_listsTheOptions() {
        String many = capture(() -> assertEquals(0, ManyAdaptersMain.run(new ManyAdaptersMain(), new String[] {"--help"})));
        assertTrue(many.contains("--records") && many.contains("--max-steps") && many.contains("--output"), many);
        String infer = capture(() -> assertEquals(0, ManyAdaptersMain.run(new BatchInferenceMain(), new String[] {"--help"})));
        assertTrue(infer.contains("--prompts") && infer.contains("--adapter-root") && infer.contains("--batch-size"), infer);
    }

    @Test
    void badOptions_exit2() {
        assertEquals(2, ManyAdaptersMain.run(new ManyAdaptersMain(), new String[] {"--records", "r.jsonl"}));
        assertEquals(2, ManyAdaptersMain.run(new ManyAdaptersMain(), new String[] {"--model", "m", "--records", "r",
            "--output", "o", "--schedule", "sideways"}));
        assertEquals(2, ManyAdaptersMain.run(new BatchInferenceMain(), new String[] {"--model", "m", "--prompts", "p",
            "--output", "o", "--batch-size", "0"}));
    }

    private static String capture(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
