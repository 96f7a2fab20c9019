package io.peft4j.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.testing.TinyHfFolder;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs each README snippet ({@link ReadmeSnippets}) on a tiny random model and checks README.md shows it verbatim. */
class ReadmeSnippetsTest {
    private static final GenerationConfig GREEDY_16 = GenerationConfig.builder().optMaxNewTokens(16).build();
    private static final String PROMPT = "The capital of France is";

    @TempDir
    static Path tmp;
    private static Path model;
    private static Path sql;
    private static Path chat;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinyHfFolder.write(tmp.resolve("model"), 7);
        sql = tmp.resolve("sql");
        chat = tmp.resolve("chat");
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) {
            m.addAdapter("sql", randomLora(), 1);
            m.addAdapter("chat", randomLora(), 2);
            m.peft().saveAdapter("sql", sql);
            m.peft().saveAdapter("chat", chat);
        }
    }

    /** A non-zero adapter (A and B random) with a visible effect on a random model. */
    private static LoraConfig randomLora() {
        return LoraConfig.builder().optR(8).optLoraAlpha(64).optTargetModules(TargetModules.ALL_LINEAR)
                .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    }

    @Test
    void loadAndGenerate_greedy_givesTheSameWordsTwice() throws Exception {
        String text = ReadmeSnippets.loadAndGenerate(model);
        assertFalse(text.isBlank());
        assertEquals(text, ReadmeSnippets.loadAndGenerate(model));
        for (String word : text.strip().split("\\s+")) {
            assertTrue(List.of(TinyHfFolder.WORDS).contains(word), "unexpected word '" + word + "' in " + text);
        }
    }

    @Test
    void adapterAndGenerate_randomAdapter_changesTheAnswer() throws Exception {
        String withAdapter = ReadmeSnippets.adapterAndGenerate(model, sql);
        String base;
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) {
            base = m.generate(PROMPT, GREEDY_16);
            m.loadAdapter(sql, "default");
            assertEquals(withAdapter, m.generate(PROMPT, GREEDY_16));
        }
        assertNotEquals(base, withAdapter);
    }

    @Test
    void qloraFineTune_twentySteps_lowersTheLossAndSavesALoadableAdapter() throws Exception {
        Path data = tmp.resolve("train.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add("{\"instruction\": \"the capital of france is\", \"output\": \"paris paris a b c\"}");
        }
        Files.write(data, lines);
        Path out = tmp.resolve("qlora-adapter");
        TrainingResult r = ReadmeSnippets.qloraFineTune(model, data, out);
        assertEquals(20, r.steps());
        double first = r.losses().get(0);
        double last = r.losses().get(r.losses().size() - 1);
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        assertTrue(Files.size(out.resolve("adapter_model.safetensors")) > 0);
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).optQuantization("nf4").optAdapter(out).build()) {
            // r 8 on every projection of 2 layers: q, o 64->64; k, v 64->32; gate, up 64->128; down 128->64
            assertEquals(2L * 8 * (128 + 96 + 96 + 128 + 192 + 192 + 192), m.peft().trainableParameterCount());
        }
    }

    @Test
    void hotSwap_twoThreads_matchSequentialGenerationPerAdapter() throws Exception {
        List<String> answers = ReadmeSnippets.hotSwap(model, sql, chat);
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) {
            m.loadAdapter(sql, "sql");
            m.loadAdapter(chat, "chat");
            m.setActiveAdapters("sql");
            assertEquals(m.generate("List all users", GREEDY_16), answers.get(0));
            m.setActiveAdapters("chat");
            assertEquals(m.generate("Hello", GREEDY_16), answers.get(1));
        }
    }

    @Test
    void mergeAndExport_mergedFolder_givesTheAdaptedLogits() throws Exception {
        Path merged = tmp.resolve("merged");
        ReadmeSnippets.mergeAndExport(model, sql, merged);
        try (Peft4jModel adapted = Peft4jModel.builder().setPath(model).optAdapter(sql).build();
             Peft4jModel folded = Peft4jModel.builder().setPath(merged).build();
             NDScope scope = new NDScope()) {
            NDArray ids = adapted.base().manager().create(new long[] {1, 2, 3, 4, 5}).reshape(1, 5);
            float[] a = adapted.peft().forward(ids, null, null).toFloatArray();
            float[] b = folded.peft().forward(ids, null, null).toFloatArray();
            float maxDiff = 0;
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            }
            assertTrue(maxDiff < 1e-4f, "max |merged - adapted| = " + maxDiff);
            assertEquals(adapted.generate(PROMPT, GREEDY_16), folded.generate(PROMPT, GREEDY_16));
            assertTrue(folded.peft().adapterNames().isEmpty());
        }
    }

    @Test
    void readme_showsEverySnippetVerbatim() throws Exception {
        String readme = Files.readString(TestResources.repoRoot().resolve("README.md"));
        String source = Files.readString(TestResources.repoRoot()
                .resolve("examples/src/test/java/io/peft4j/examples/ReadmeSnippets.java"));
        Matcher m = Pattern.compile("// tag::([a-z-]+)\\[]\\n(.*?)\\n\\s*// end::\\1\\[]", Pattern.DOTALL).matcher(source);
        int found = 0;
        while (m.find()) {
            String snippet = dedent(m.group(2));
            assertTrue(snippet.lines().count() <= 10, m.group(1) + " has " + snippet.lines().count() + " lines");
            assertTrue(readme.contains(snippet), "README.md lacks snippet '" + m.group(1) + "':\n" + snippet);
            found++;
        }
        assertEquals(5, found);
    }

    private static String dedent(String block) {
        int indent = block.lines().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder out = new StringBuilder();
        block.lines().forEach(l -> out.append(l.length() >= indent ? l.substring(indent) : l.strip()).append('\n'));
        return out.toString().stripTrailing();
    }
}
