package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AdapterHotSwap} on the real model: one adapter folder given (saved here; the example makes the other two),
 * 8-token answers. Each thread's answers must equal what the same adapter answers alone, although adapters were
 * loaded and removed while the threads generated.
 */
class AdapterHotSwapIT {
    @TempDir
    Path tmp;

    @Test
    void main_fourThreadsWhileSwapping_answersEqualSequentialOnesPerAdapter() throws Exception {
        Path model = TestResources.testModel();
        Path given = ExampleRun.randomLora(model, tmp.resolve("given"), 5);
        String out = ExampleRun.capture(AdapterHotSwap::main, model.toString(), given.toString(), "--tokens", "8");

        assertTrue(ExampleRun.number(out, "load/remove rounds while generating: (\\d+)") >= 1, out);
        List<String> lines = ExampleRun.all(out, "^(\\[.*)$");
        assertEquals(8, lines.size(), out);   // 4 adapters (3 + base) x 2 prompts
        assertTrue(new HashSet<>(ExampleRun.all(out, "^\\[[^]]+\\] The capital of France is => (.*)$")).size() >= 2,
                "the adapters should not all answer alike:\n" + out);

        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(8).build();
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) {
            m.loadAdapter(given, "adapter-1");
            for (String adapter : List.of("adapter-1", "__base__")) {
                for (String prompt : List.of("The capital of France is", "My favourite food is")) {
                    String alone = m.generateWith(adapter, prompt, greedy).strip().replace('\n', ' ');
                    assertTrue(lines.contains("[" + adapter + "] " + prompt + " => " + alone),
                            adapter + " alone answers '" + alone + "' to '" + prompt + "'; the example printed:\n" + out);
                }
            }
        }
    }
}
