package io.peft4j.core.generate;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.CharTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {
    static NDManager manager;
    static LlamaModel model;
    static Generator generator;
    static final GenerationConfig GREEDY = GenerationConfig.builder().optMaxNewTokens(12).build();

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        ModelConfig config = new ModelConfig("LlamaForCausalLM", "llama", 61, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, false, true, -1, -1);
        model = LlamaModel.random(config, 11, manager);
        generator = new Generator(model, new CharTokenizer());
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    @Test
    void generateIds_kvCache_equalsNoCacheTokenForToken() {
        int[][] prompt = {{3, 17, 5, 42, 8}};
        int[] cached = generator.generateIds(prompt, GREEDY, TokenListener.NONE).tokens().get(0);
        int[] recomputed = generator.generateIds(prompt, GREEDY.withKvCache(false), TokenListener.NONE).tokens().get(0);
        assertEquals(12, cached.length);
        assertTrue(java.util.Arrays.stream(cached).distinct().count() >= 4, "a varied continuation");
        assertArrayEquals(recomputed, cached);
    }

    @Test
    void generateIds_leftPaddedBatch_equalsEachPromptAlone() {
        int[][] prompts = {{3, 17, 5, 42, 8, 9, 1}, {60, 33}, {7, 7, 7, 2}};
        for (boolean cache : new boolean[] {true, false}) {
            GenerationConfig config = GREEDY.withKvCache(cache);
            GenerationResult batch = generator.generateIds(prompts, config, TokenListener.NONE);
            for (int i = 0; i < prompts.length; i++) {
                int[] alone = generator.generateIds(new int[][] {prompts[i]}, config, TokenListener.NONE).tokens().get(0);
                assertArrayEquals(alone, batch.tokens().get(i), "prompt " + i + " cache " + cache);
            }
        }
    }

    @Test
    void generate_sameSeed_sameTextAndOtherSeedDiffers() {
        GenerationConfig sampled = GREEDY.withSampling(20.0, 0, 1.0, 1234L);
        String a = generator.generate("hello", sampled);
        String b = generator.generate("hello", sampled);
        String c = generator.generate("hello", sampled.withSampling(20.0, 0, 1.0, 99L));
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void generate_topKOne_equalsGreedy() {
        assertEquals(generator.generate("abc", GREEDY), generator.generate("abc", GREEDY.withSampling(0.8, 1, 1.0, 5L)));
    }

    @Test
    void generate_eosAndStopString_endEarly() {
        int[] greedy = generator.generateIds(new int[][] {{1, 2, 3}}, GREEDY, TokenListener.NONE).tokens().get(0);
        GenerationConfig eos = GenerationConfig.builder().optMaxNewTokens(20).optEosTokenIds(List.of(greedy[2])).build();
        int[] stopped = generator.generateIds(new int[][] {{1, 2, 3}}, eos, TokenListener.NONE).tokens().get(0);
        int firstEos = 0;
        while (greedy[firstEos] != greedy[2]) {
            firstEos++;
        }
        assertEquals(firstEos + 1, stopped.length);

        String full = generator.generate("\"#$", GREEDY);
        String stop = full.substring(3, 5);
        GenerationConfig withStop = GenerationConfig.builder().optMaxNewTokens(20).optStopStrings(List.of(stop)).build();
        String cut = generator.generate("\"#$", withStop);
        assertEquals(full.substring(0, full.indexOf(stop)), cut);
    }

    @Test
    void generate_listener_streamsEveryTokenAndTheWholeText() {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        GenerationResult r = generator.generate(List.of("abc", "x"), GREEDY, (row, token, delta) -> {
            if (row == 0) {
                tokens.add(token);
                text.append(delta);
            }
        });
        assertArrayEquals(r.tokens().get(0), tokens.stream().mapToInt(Integer::intValue).toArray());
        assertEquals(r.texts().get(0), text.toString());
        assertTrue(r.tokensPerSecond() > 0);
    }

    @Test
    void sampler_repetitionPenaltyAndTopP_followTransformers() {
        BitSet seen = new BitSet();
        seen.set(0);
        GenerationConfig penalty = GenerationConfig.builder().optRepetitionPenalty(4.0).build();
        // logits 2, 1, -1: token 0 seen -> 2 / 4 = 0.5 < 1
        assertEquals(1, new TokenSampler(penalty).next(new float[] {2f, 1f, -1f}, 0, 3, seen, null));
        // probabilities 0.5, 0.3, 0.2; top-p 0.6 keeps tokens 0 and 1 only
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        TokenSampler sampler = new TokenSampler(GREEDY.withSampling(1.0, 0, 0.6, 3L));
        BitSet drawn = new BitSet();
        for (int i = 0; i < 400; i++) {
            drawn.set(sampler.next(logits, 0, 3, new BitSet(), null));
        }
        assertTrue(drawn.get(0) && drawn.get(1));
        assertFalse(drawn.get(2));
    }

    @Test
    void sampler_presenceAndFrequencyPenalties_followOpenAi() {
        // scores 3, 2.5, 0: token 0 generated twice -> 3 - (0.2 + 0.3 * 2) = 2.2 < 2.5
        int[] generated = {2, 0, 0};
        float[] logits = {3f, 2.5f, 0f};
        assertEquals(1, new TokenSampler(GREEDY, 0.2, 0.3).next(logits, 0, 3, new BitSet(), generated));
        assertEquals(0, new TokenSampler(GREEDY, 0.2, 0.1).next(logits, 0, 3, new BitSet(), generated));   // 2.6
        assertEquals(0, new TokenSampler(GREEDY).next(logits, 0, 3, new BitSet(), null));
        assertThrows(IllegalArgumentException.class, () -> new TokenSampler(GREEDY, Double.NaN, 0));
    }
}
