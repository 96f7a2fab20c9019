package io.peft4j.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.llama.LlamaModel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Tiny random LLaMA models and helpers shared by the prompt-tuning tests. */
final class TinyModels {
    static final int VOCAB = 61;
    static final int HIDDEN = 32;

    private TinyModels() {
    }

    /** 2 layers, hidden 32, 4 heads of 8, 2 kv heads, SwiGLU 48, tied embeddings, 128 positions. */
    static ModelConfig config() {
        return new ModelConfig("LlamaForCausalLM", "llama", VOCAB, HIDDEN, 48, 2, 4, 2, HIDDEN / 4, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);
    }

    static LlamaModel model(NDManager manager) {
        return LlamaModel.random(config(), 42, manager);
    }

    static NDArray ids(NDManager m) {
        return m.create(new long[] {1, 5, 9, 33, 2, 60, 7, 4, 11, 3, 8, 12}, new Shape(2, 6));
    }

    static float[] logits(CausalLM model, NDArray ids) {
        try (NDScope scope = new NDScope()) {
            return model.forward(ids, null, null).toFloatArray();
        }
    }

    /** A copy of every base weight (projections densified, embedding, norms) by name. */
    static Map<String, float[]> baseWeights(CausalLM model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager m = model.manager().newSubManager()) {
            model.linearLayers().forEach((k, v) -> out.put(k, v.denseWeight(m).toFloatArray()));
        }
        model.otherWeights().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    /** Greedy settings of the generation checks: 8 new tokens, token 0 as EOS. */
    static final GenerationConfig GREEDY8 = GenerationConfig.builder().optMaxNewTokens(8)
            .optEosTokenIds(List.of(0)).build();

    /**
     * Generates two prompts of different lengths through {@code lm}: with the KV cache (the soft prompt prefilled
     * once) equals without it, and the shorter, left-padded row equals that row alone. Returns the cached tokens.
     */
    static List<int[]> assertCachedEqualsUncached_andLeftPaddedRowEqualsAlone(CausalLM lm) {
        int[][] prompts = {{1, 5, 9, 33, 2}, {7, 4}};
        var cached = new Generator(lm).generateIds(prompts, GREEDY8, TokenListener.NONE);
        var plain = new Generator(lm).generateIds(prompts, GREEDY8.withKvCache(false), TokenListener.NONE);
        var alone = new Generator(lm).generateIds(new int[][] {{7, 4}}, GREEDY8, TokenListener.NONE);
        assertArrayEquals(plain.tokens().get(0), cached.tokens().get(0));
        assertArrayEquals(plain.tokens().get(1), cached.tokens().get(1));
        assertArrayEquals(alone.tokens().get(0), cached.tokens().get(1), "left-padded row = row alone");
        return cached.tokens();
    }

    static float maxDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths " + a.length + " != " + b.length);
        }
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
