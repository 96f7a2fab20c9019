package io.peft4j.datasets;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared datasets load, render and encode, and for every record the trained tokens decode to exactly the
 * response + EOS (Alpaca 5000 and GSM8K with the Llama-2 tokenizer; the ShareGPT sample with SmolLM2's own
 * tokenizer and chat template read from the GGUF).
 */
class SharedDatasetsIT {

    @Test
    void alpaca5000_loadsRendersAndMasksEveryRecord() throws Exception {
        Dataset d = DatasetReader.builder().setPath(TestResources.shared("datasets/alpaca-subset/alpaca_5000.json"))
                .build().readAll();
        assertEquals(5000, d.size());
        assertEquals(RecordShape.ALPACA, d.shape());
        assertEquals("No", d.records().get(0).messages().get(1).content());
        try (HfTokenizer tok = SharedTokenizers.llama2()) {
            checkSingleTurn(d, tok, "alpaca");
        }
    }

    @Test
    void gsm8k_questionAnswerMappedToInstructionOutput_loadsAndMasks() throws Exception {
        FieldNames names = FieldNames.DEFAULT.with("instruction", "question").with("output", "answer");
        Dataset d = DatasetReader.builder().setPath(TestResources.shared("datasets/gsm8k/test.jsonl"))
                .optShape(RecordShape.ALPACA).optFieldNames(names).build().readAll();
        assertEquals(1319, d.size());
        assertTrue(d.records().get(0).messages().get(0).content().startsWith("Janet"));
        try (HfTokenizer tok = SharedTokenizers.llama2()) {
            checkSingleTurn(d, tok, "zephyr");
        }
    }

    private static void checkSingleTurn(Dataset d, Tokenizer tok, String template) throws Exception {
        ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok)
                .setTemplate(ChatTemplate.named(template, SpecialTokens.of(tok))).build();
        EncodedDataset e = enc.encodeAll(d.records());
        assertEquals(d.size(), e.examples().size());
        for (int i = 0; i < d.size(); i++) {
            TrainingExample ex = e.examples().get(i);
            String response = d.records().get(i).messages().get(1).content();
            assertEquals(response + "</s>", decodeTrained(tok, ex), "record " + i);
        }
        EncodingStats s = e.stats();
        assertTrue(s.lengthP50() > 20 && s.lengthP95() > s.lengthP50(), s.toString());
        assertTrue(s.trainedTokenShare() > 0.05 && s.trainedTokenShare() < 0.95, s.toString());
    }

    @Test
    void shareGptSample_smolLm2TemplateAndTokenizer_trainsEachAssistantTurn() throws Exception {
        Dataset d = DatasetReader.builder().setPath(TestResources.shared("datasets/sharegpt-sample/conversation.json"))
                .build().readAll();
        assertEquals(RecordShape.SHAREGPT, d.shape());
        Conversation c = d.records().get(0);
        assertEquals(12, c.messages().size());
        try (Checkpoint ckpt = Checkpoints.open(TestResources.testModel())) {
            Tokenizer tok = ckpt.tokenizer();
            ChatTemplate t = ChatTemplate.jinja(ckpt.chatTemplate().orElseThrow(), SpecialTokens.of(tok));
            TrainingExample ex = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t).build()
                    .encode(c).example();
            List<String> runs = runs(tok, ex);
            assertEquals(6, runs.size());
            String eos = SpecialTokens.of(tok).eos();
            assertEquals("<|im_end|>", eos);
            for (int k = 0; k < 6; k++) {
                assertEquals(c.messages().get(2 * k + 1).content() + eos, runs.get(k), "assistant turn " + k);
            }
            assertEquals(t.render(c, false), tok.decode(ex.inputIds(), false), "ids decode to the render");
        }
    }

    static String decodeTrained(Tokenizer tok, TrainingExample ex) {
        return String.join("", runs(tok, ex));
    }

    static List<String> runs(Tokenizer tok, TrainingExample ex) {
        List<String> out = new java.util.ArrayList<>();
        int[] labels = ex.labels();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != TrainingExample.IGNORE) {
                int j = i;
                while (j < labels.length && labels[j] != TrainingExample.IGNORE) {
                    j++;
                }
                out.add(tok.decode(Arrays.copyOfRange(ex.inputIds(), i, j), false));
                i = j;
            }
        }
        return out;
    }
}
