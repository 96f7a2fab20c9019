package io.peft4j.datasets;

import io.peft4j.core.tokenizer.HfTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Label masks checked token by token with the real Llama-2 tokenizer: trained tokens decode to response + EOS. */
class ExampleEncoderTest {
    private static HfTokenizer tok;
    private static SpecialTokens st;

    @BeforeAll
    static void load() {
        tok = SharedTokenizers.llama2();
        st = SpecialTokens.of(tok);
    }

    @AfterAll
    static void close() {
        if (tok != null) {
            tok.close();
        }
    }

    private static ExampleEncoder encoder(String template) {
        return ExampleEncoder.builder().setTokenizer(tok).setTemplate(ChatTemplate.named(template, st)).build();
    }

    /** Decoded runs of consecutive trained tokens. */
    static List<String> trainedRuns(TrainingExample ex) {
        List<String> runs = new ArrayList<>();
        int[] labels = ex.labels();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] == TrainingExample.IGNORE) {
                continue;
            }
            int j = i;
            while (j < labels.length && labels[j] != TrainingExample.IGNORE) {
                assertEquals(ex.inputIds()[j], labels[j], "label equals the input id at " + j);
                j++;
            }
            runs.add(tok.decode(Arrays.copyOfRange(ex.inputIds(), i, j), false));
            i = j;
        }
        return runs;
    }

    @Test
    void encode_alpacaSingleTurn_trainsExactlyResponseAndEos() throws Exception {
        Conversation c = Conversation.of(Message.user("Give three tips for staying healthy."),
                Message.assistant("1. Eat well.\n2. Sleep.\n3. Move."));
        TrainingExample ex = encoder("alpaca").encode(c).example();
        String prompt = ChatTemplate.named("alpaca", st).render(Conversation.of(c.messages().get(0)), true);
        int[] promptIds = tok.encode(prompt, true);
        int[] responseIds = tok.encode(prompt + "1. Eat well.\n2. Sleep.\n3. Move.", true);
        int[] expected = Arrays.copyOf(responseIds, responseIds.length + 1);
        expected[responseIds.length] = 2;
        assertArrayEquals(expected, ex.inputIds(), "ids = tokenization of the whole render + EOS");
        assertEquals(1, ex.inputIds()[0], "BOS first");
        for (int i = 0; i < ex.length(); i++) {
            boolean trained = i >= promptIds.length;
            assertEquals(trained ? ex.inputIds()[i] : TrainingExample.IGNORE, ex.labels()[i], "label " + i);
        }
        assertEquals(List.of("1. Eat well.\n2. Sleep.\n3. Move.</s>"), trainedRuns(ex));
    }

    @Test
    void encode_alpacaWithInput_showsInputSectionUntrained() throws Exception {
        Conversation c = Conversation.of(Message.user("Translate to French."), Message.assistant("Bonjour."))
                .withInput("Hello.");
        TrainingExample ex = encoder("alpaca").encode(c).example();
        String untrained = tok.decode(Arrays.copyOf(ex.inputIds(), ex.length() - ex.trainedTokens()), false);
        assertTrue(untrained.endsWith("### Input:\nHello.\n\n### Response:\n"), untrained);
        assertEquals(List.of("Bonjour.</s>"), trainedRuns(ex));
    }

    @Test
    void encode_zephyrMultiTurn_trainsEveryAssistantTurnWithItsEos() throws Exception {
        TrainingExample ex = encoder("zephyr").encode(multiTurn()).example();
        assertEquals(List.of("Yes: 7.</s>", "Sure, 11. Want more?</s>"), trainedRuns(ex));
        assertEquals(1, ex.inputIds()[0], "tokenizer's BOS prepended: the template has none");
        String rest = tok.decode(Arrays.copyOfRange(ex.inputIds(), 1, ex.length()), false);
        assertEquals(ChatTemplate.named("zephyr", st).render(multiTurn(), false), rest, "ids decode to the render");
    }

    @Test
    void encode_llama2_trainsStrippedContentSpaceAndEos() throws Exception {
        TrainingExample ex = encoder("llama-2").encode(multiTurn()).example();
        assertEquals(1, ex.inputIds()[0]);
        assertEquals(1, countOf(ex.inputIds(), 1) - 1, "template's own BOS per turn, no extra BOS prepended");
        assertEquals(List.of("Yes: 7. </s>", "Sure, 11. Want more? </s>"), trainedRuns(ex));
    }

    @Test
    void encode_chatmlWithoutEosInText_trainsTurnEndAndAppendsEos() throws Exception {
        TrainingExample ex = encoder("chatml").encode(multiTurn()).example();
        List<String> runs = trainedRuns(ex);
        assertEquals(2, runs.size());
        assertEquals("Yes: 7.<|im_end|>\n", runs.get(0));
        assertEquals("Sure, 11. Want more?<|im_end|>\n</s>", runs.get(1));
    }

    @Test
    void encode_vicunaSpaceBeforeResponse_straddlingTokenIsTrained() throws Exception {
        Encoded e = encoder("vicuna").encode(multiTurn());
        assertEquals(List.of("Yes: 7.</s>", "Sure, 11. Want more?</s>"), trainedRuns(e.example()));
        assertTrue(e.misaligned() >= 2, "' Yes' is one token across the prompt/response boundary");
    }

    @Test
    void encode_trainOnInputs_labelsEveryToken() throws Exception {
        ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(ChatTemplate.named("chatml", st))
                .optTrainOnInputs(true).build();
        TrainingExample ex = enc.encode(multiTurn()).example();
        assertArrayEquals(ex.inputIds(), ex.labels());
    }

    @Test
    void encode_plainText_trainsAllButBosAndAppendsEos() throws Exception {
        ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).build();
        TrainingExample ex = enc.encode(Conversation.text("Once upon a time")).example();
        assertEquals(TrainingExample.IGNORE, ex.labels()[0]);
        assertEquals(List.of("Once upon a time</s>"), trainedRuns(ex));
        assertEquals(ex.length() - 1, ex.trainedTokens());
    }

    @Test
    void encode_truncatePromptLeft_keepsBosAndWholeResponse() throws Exception {
        Conversation c = Conversation.of(Message.user("word ".repeat(200).strip()), Message.assistant("Fine answer."));
        Encoded full = encoder("alpaca").encode(c);
        ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(ChatTemplate.named("alpaca", st))
                .optMaxSeqLen(40).build();
        Encoded e = enc.encode(c);
        assertEquals(Encoded.Outcome.TRUNCATED, e.outcome());
        assertEquals(40, e.example().length());
        assertEquals(full.fullLength(), e.fullLength());
        assertEquals(1, e.example().inputIds()[0]);
        assertEquals(List.of("Fine answer.</s>"), trainedRuns(e.example()));
        int[] tail = Arrays.copyOfRange(full.example().inputIds(), full.fullLength() - 39, full.fullLength());
        assertArrayEquals(tail, Arrays.copyOfRange(e.example().inputIds(), 1, 40), "the last 39 tokens kept");
    }

    @Test
    void encode_truncateResponseRightAndDrop_countedPerPolicy() throws Exception {
        Conversation c = Conversation.of(Message.user("Hi"), Message.assistant("long ".repeat(100).strip()));
        ChatTemplate t = ChatTemplate.named("alpaca", st);
        Encoded right = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t).optMaxSeqLen(50)
                .optTruncation(TruncationPolicy.TRUNCATE_RESPONSE_RIGHT).build().encode(c);
        assertEquals(Encoded.Outcome.TRUNCATED, right.outcome());
        assertEquals(50, right.example().length());
        Encoded full = encoder("alpaca").encode(c);
        assertArrayEquals(Arrays.copyOf(full.example().inputIds(), 50), right.example().inputIds());
        Encoded drop = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t).optMaxSeqLen(50)
                .optTruncation(TruncationPolicy.DROP).build().encode(c);
        assertEquals(Encoded.Outcome.DROPPED, drop.outcome());
        assertNull(drop.example());
        Encoded noneLeft = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t).optMaxSeqLen(10)
                .optTruncation(TruncationPolicy.TRUNCATE_RESPONSE_RIGHT).build().encode(c);
        assertEquals(Encoded.Outcome.DROPPED, noneLeft.outcome(), "prompt alone fills 10 tokens: nothing trained");
    }

    @Test
    void encodeAll_stats_countOutcomesAndTrainedShare() throws Exception {
        ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(ChatTemplate.named("llama-2", st))
                .optMaxSeqLen(30).optTruncation(TruncationPolicy.DROP).optSkipTemplateErrors(true).build();
        List<Conversation> data = List.of(
                Conversation.of(Message.user("a"), Message.assistant("b")),
                Conversation.of(Message.user("x ".repeat(50)), Message.assistant("y")),
                Conversation.of(Message.user("a"), Message.user("b"), Message.assistant("c")));
        EncodedDataset d = enc.encodeAll(data);
        EncodingStats s = d.stats();
        assertEquals(3, s.records());
        assertEquals(1, s.kept());
        assertEquals(1, s.dropped());
        assertEquals(1, s.templateErrors(), "llama-2 raises on user, user");
        assertEquals(1, d.examples().size());
        TrainingExample only = d.examples().get(0);
        assertEquals((double) only.trainedTokens() / only.length(), s.trainedTokenShare(), 1e-12);
    }

    static Conversation multiTurn() {
        return Conversation.of(Message.system("You are terse."), Message.user("Name a prime."),
                Message.assistant("Yes: 7."), Message.user("Another one?"), Message.assistant("Sure, 11. Want more?"));
    }

    private static int countOf(int[] a, int v) {
        int n = 0;
        for (int x : a) {
            n += x == v ? 1 : 0;
        }
        return n;
    }
}
