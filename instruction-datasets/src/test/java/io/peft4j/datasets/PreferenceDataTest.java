package io.peft4j.datasets;

import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.preference.PreferencePair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** trl's three preference formats read, rendered and masked with the real Llama-2 tokenizer; bad input named. */
class PreferenceDataTest {
    private static HfTokenizer tok;
    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        tok = SharedTokenizers.llama2();
    }

    @AfterAll
    static void close() {
        if (tok != null) {
            tok.close();
        }
    }

    Path file(String... lines) throws Exception {
        Path p = tmp.resolve("prefs.jsonl");
        Files.writeString(p, String.join("\n", lines) + "\n");
        return p;
    }

    static String answer(Example e) {
        int from = 0;
        while (e.labels()[from] == Example.IGNORE) {
            from++;
        }
        return tok.decode(Arrays.copyOfRange(e.inputIds(), from, e.inputIds().length), false);
    }

    @Test
    void strings_areRawTextWithEos_labelsOnTheAnswerOnly() throws Exception {
        Path p = file("{\"prompt\": \"The sky is\", \"chosen\": \" blue.\", \"rejected\": \" green.\"}");
        assertTrue(PreferenceReader.isPreferenceFile(p));
        PreferenceDataset d = PreferenceReader.builder().setPath(p).build().readAll();
        PreferenceEncoder.Result r = PreferenceEncoder.builder().setTokenizer(tok).build().encodeAll(d.records());
        PreferencePair pair = r.pairs().get(0);
        assertEquals("blue.</s>", answer(pair.chosen()).strip());
        assertEquals("green.</s>", answer(pair.rejected()).strip());
        assertEquals(1, r.stats().kept());
    }

    @Test
    void conversational_andImplicitPrompt_renderWithTheTemplate() throws Exception {
        String conv = "{\"prompt\": [{\"role\": \"user\", \"content\": \"Sky colour?\"}], "
                + "\"chosen\": [{\"role\": \"assistant\", \"content\": \"Blue.\"}], "
                + "\"rejected\": [{\"role\": \"assistant\", \"content\": \"Green.\"}]}";
        String implicit = "{\"chosen\": [{\"role\": \"user\", \"content\": \"Sky colour?\"}, "
                + "{\"role\": \"assistant\", \"content\": \"Blue.\"}], "
                + "\"rejected\": [{\"role\": \"user\", \"content\": \"Sky colour?\"}, "
                + "{\"role\": \"assistant\", \"content\": \"Green.\"}]}";
        PreferenceDataset d = PreferenceReader.builder().setPath(file(conv, implicit)).build().readAll();
        assertEquals(d.records().get(0), new PreferenceRecord(d.records().get(1).prompt(),
                d.records().get(1).chosen(), d.records().get(1).rejected(), true, 1));
        ChatTemplate chatml = ChatTemplate.named("chatml", SpecialTokens.of(tok));
        PreferenceEncoder.Result r = PreferenceEncoder.builder().setTokenizer(tok).optTemplate(chatml).build()
                .encodeAll(d.records());
        assertEquals(2, r.pairs().size());
        assertEquals(r.pairs().get(0), r.pairs().get(1));
        assertTrue(answer(r.pairs().get(0).chosen()).startsWith("Blue.<|im_end|>"), answer(r.pairs().get(0).chosen()));
        String prompt = tok.decode(Arrays.copyOf(r.pairs().get(0).chosen().inputIds(),
                r.pairs().get(0).chosen().inputIds().length - r.pairs().get(0).chosen().trainedTokens()), false);
        assertTrue(prompt.endsWith("<|im_start|>assistant\n"), prompt);
    }

    @Test
    void truncation_keepsPromptEnd_thenAnswerStart_andDropsFullPrompts() throws Exception {
        PreferenceRecord r = PreferenceRecord.ofText("one two three four five six seven eight", " yes indeed it is",
                " no");
        PreferenceEncoder enc = PreferenceEncoder.builder().setTokenizer(tok).optMaxPromptLength(4).optMaxLength(7)
                .build();
        PreferenceEncoder.Result res = enc.encodeAll(List.of(r));
        PreferencePair p = res.pairs().get(0);
        assertEquals(7, p.chosen().inputIds().length);
        assertEquals(3, p.chosen().trainedTokens());
        assertTrue(tok.decode(Arrays.copyOf(p.chosen().inputIds(), 4), false).endsWith("seven eight"));
        assertEquals(1, res.stats().promptTruncated());
        assertEquals(1, res.stats().answerTruncated());
        PreferenceEncoder.Result dropped = PreferenceEncoder.builder().setTokenizer(tok).optMaxLength(5).build()
                .encodeAll(List.of(r));
        assertTrue(dropped.pairs().isEmpty());
        assertEquals(1, dropped.stats().dropped());
    }

    @Test
    void badPairs_areSkippedWithTheirLine_orRefusedWhenStrict() throws Exception {
        Path p = file("{\"prompt\": \"Q\", \"chosen\": \"a\", \"rejected\": \"b\"}",
                "{\"prompt\": \"Q\", \"chosen\": \"same\", \"rejected\": \"same\"}",
                "{\"prompt\": \"Q\", \"chosen\": \"\", \"rejected\": \"b\"}");
        PreferenceDataset d = PreferenceReader.builder().setPath(p).build().readAll();
        assertEquals(1, d.records().size());
        assertEquals(2, d.skipped().size());
        assertEquals(2, d.skipped().get(0).line());
        assertEquals("chosen", d.skipped().get(1).field());
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> PreferenceReader.builder().setPath(p).optStrict(true).build().readAll());
        assertTrue(e.getMessage().contains("prefs.jsonl:2") && e.getMessage().contains("equals chosen"),
                e.getMessage());
    }

    @Test
    void malformedRecords_nameFileLineAndField() throws Exception {
        Path p = file("{\"prompt\": \"Q\", \"chosen\": \"a\", \"rejected\": \"b\"}",
                "{\"prompt\": \"Q\", \"chosen\": \"a\", \"rejected\": 3}");
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> PreferenceReader.builder().setPath(p).build().readAll());
        assertEquals(2, e.line());
        assertEquals("rejected", e.field());
        Path q = file("{\"prompt\": \"Q\", \"chosen\": [{\"role\": \"robot\", \"content\": \"x\"}], \"rejected\": []}");
        e = assertThrows(DatasetFormatException.class, () -> PreferenceReader.builder().setPath(q).build().readAll());
        assertTrue(e.getMessage().contains("field 'prompt'") || e.getMessage().contains("chosen[0].role"),
                e.getMessage());
        assertFalse(PreferenceReader.isPreferenceFile(file("{\"instruction\": \"x\", \"output\": \"y\"}")));
    }
}
