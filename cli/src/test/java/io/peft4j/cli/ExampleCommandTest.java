package io.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j example}: dispatch by class or kebab-case name, one-line errors with exit 2. */
class ExampleCommandTest {
    @TempDir
    Path tmp;

    @Test
    void kebab_classNames_becomeLowerCaseWordsJoinedByDashes() {
        assertEquals("qlora-instruction-tuning", ExampleCommand.kebab("QLoraInstructionTuning"));
        assertEquals("adapter-hot-swap", ExampleCommand.kebab("AdapterHotSwap"));
    }

    @Test
    void example_unknownName_listsTheKnownOnesAndExits2() {
        CliRun r = CliRun.of("example", "NoSuchExample");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("no example 'NoSuchExample' (known: QLoraInstructionTuning, PromptTuningClassifier,"
                + " PreferenceTuning,"
                + " AdapterHotSwap, MergeAndExport, EvaluateAdapter)"), r.err());
    }

    @Test
    void example_missingArguments_printsItsUsageLineAndExits2() {
        for (String name : ExampleCommand.EXAMPLES.keySet()) {
            CliRun r = CliRun.of("example", ExampleCommand.kebab(name));
            assertEquals(2, r.code(), name);
            assertTrue(r.err().startsWith("peft4j: usage: ./peft4j example " + name + " MODEL"), r.err());
        }
    }

    @Test
    void example_hotSwapOnATinyModel_runsTheExampleMainWithItsArguments() throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("tiny"), TinyModelFolder.TINY, 3);
        CliRun r = CliRun.of("example", "adapter-hot-swap", model.toString(), "--tokens", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("load/remove rounds while generating: "), r.out());
        assertEquals(8, r.out().lines().filter(l -> l.startsWith("[")).count(), r.out());
        assertTrue(r.out().contains("[__base__] The capital of France is => "), r.out());
    }
}
