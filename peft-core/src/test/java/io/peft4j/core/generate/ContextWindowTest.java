package io.peft4j.core.generate;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Prompts, evaluation windows and training sequences beyond max_position_embeddings: refused, or truncated on request. */
class ContextWindowTest {
    static final int VOCAB = 61;
    static final int WINDOW = 128;
    static NDManager manager;
    static LlamaModel model;
    static Generator generator;
    static final GenerationConfig GREEDY = GenerationConfig.builder().optMaxNewTokens(8)
            .optEosTokenIds(List.of(-1)).build();

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        model = LlamaModel.random(config(WINDOW), 3, manager);
        generator = new Generator(model);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    static ModelConfig config(int window) {
        return new ModelConfig("LlamaForCausalLM", "llama", VOCAB, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, window, true, false, -1, -1);
    }

    @Test
    void generate_promptLongerThanWindow_refusedWithTokensAndLimit() {
        ContextWindowException e = assertThrows(ContextWindowException.class,
                () -> generator.generateIds(new int[][] {ids(200, 1)}, GREEDY, TokenListener.NONE));
        assertEquals("prompt of 200 tokens exceeds the model's context window of 128 tokens "
                + "(max_position_embeddings)", e.getMessage());
        assertEquals(200, e.tokens());
        assertEquals(128, e.limit());
    }

    @Test
    void generate_truncatePrompt_keepsLastTokensThatLeaveRoomForNewOnes() {
        int[] prompt = ids(200, 2);
        GenerationResult cut = generator.generateIds(new int[][] {prompt}, GREEDY.withTruncatePrompt(true),
                TokenListener.NONE);
        assertEquals(WINDOW - 8, cut.promptTokens()[0]);
        int[] tail = Arrays.copyOfRange(prompt, 200 - (WINDOW - 8), 200);
        int[] expected = generator.generateIds(new int[][] {tail}, GREEDY, TokenListener.NONE).tokens().get(0);
        assertEquals(8, expected.length);
        assertArrayEquals(expected, cut.tokens().get(0));
    }

    @Test
    void generate_windowFills_stopsAtWindowWithAndWithoutCache() {
        int[][] prompt = {ids(125, 3)};
        int[] cached = generator.generateIds(prompt, GREEDY, TokenListener.NONE).tokens().get(0);
        int[] recomputed = generator.generateIds(prompt, GREEDY.withKvCache(false), TokenListener.NONE).tokens().get(0);
        assertEquals(WINDOW - 125, cached.length);
        assertArrayEquals(cached, recomputed);
    }

    @Test
    void forwardAndBackward_beyondWindow_refused() {
        try (NDManager m = manager.newSubManager(); NDScope scope = new NDScope()) {
            NDArray tooLong = m.create(longs(ids(WINDOW + 1, 4)), new Shape(1, WINDOW + 1));
            assertThrows(ContextWindowException.class, () -> model.forward(tooLong, null, null));
            ContextWindowException training = assertThrows(ContextWindowException.class,
                    () -> model.backward(tooLong, null, logits -> logits.sum(), false, 1L));
            assertEquals("training sequence of 129 tokens exceeds the model's context window of 128 tokens "
                    + "(max_position_embeddings)", training.getMessage());
            try (KvCache cache = model.newKvCache(1)) {
                model.forward(m.create(longs(ids(100, 5)), new Shape(1, 100)), null, cache);
                ContextWindowException more = assertThrows(ContextWindowException.class,
                        () -> model.forward(m.create(longs(ids(29, 6)), new Shape(1, 29)), null, cache));
                assertEquals(129, more.tokens());
                assertEquals(100, cache.length(), "a refused step leaves the cache as it was");
            }
        }
    }

    @Test
    void evaluate_windowBeyondContext_refused() {
        PerplexityEvaluator eval = new PerplexityEvaluator(model, null);
        ContextWindowException e = assertThrows(ContextWindowException.class,
                () -> eval.evaluateIds(List.of(ids(300, 7)), 200, 100));
        assertEquals(200, e.tokens());
    }

    @Test
    void evaluate_windowLongerThanOneChunk_equalsSinglePassLoss() {
        int t = 600;   // chunks of 256, 256, 88
        try (NDManager m = Peft4j.newManager(); LlamaModel wide = LlamaModel.random(config(1024), 8, m)) {
            int[] doc = ids(t, 9);
            double chunked = new PerplexityEvaluator(wide, null).evaluateIds(List.of(doc), t, t).loss();
            double single;
            try (NDScope scope = new NDScope();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {   // recording: one pass
                NDArray logits = wide.forward(m.create(longs(doc), new Shape(1, t)), null, null);
                single = meanNll(logits.toFloatArray(), doc);
            }
            assertEquals(single, chunked, 1e-5);
        }
    }

    private static double meanNll(float[] logits, int[] ids) {
        double nll = 0;
        for (int p = 0; p + 1 < ids.length; p++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < VOCAB; j++) {
                max = Math.max(max, logits[p * VOCAB + j]);
            }
            double sum = 0;
            for (int j = 0; j < VOCAB; j++) {
                sum += Math.exp(logits[p * VOCAB + j] - max);
            }
            nll -= logits[p * VOCAB + ids[p + 1]] - max - Math.log(sum);
        }
        return nll / (ids.length - 1);
    }

    private static int[] ids(int n, long seed) {
        Random rng = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(VOCAB);
        }
        return ids;
    }

    private static long[] longs(int[] ids) {
        return Arrays.stream(ids).asLongStream().toArray();
    }
}
