package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.llama.LlamaModelTest;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RotaryEmbeddingTest {

    @Test
    void inverseFrequencies_llama3Scaling_matchesHandComputedValues() {
        ModelConfig.RopeScaling llama3 = new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 8192);
        float[] inv = RotaryEmbedding.inverseFrequencies(8, 500000.0, llama3);
        // wavelengths 6.3 and 167 (< 2048): kept; 4443 (between 2048 and 8192): smoothed; 118,140 (> 8192): / 8
        assertArrayEquals(new float[] {1.0f, 0.037606031f, 5.2484616e-4f, 6.6478699e-6f}, inv, 1e-9f);
    }

    @Test
    void inverseFrequencies_linearScaling_dividesByFactor() {
        ModelConfig.RopeScaling linear = new ModelConfig.RopeScaling("linear", 4.0, 1.0, 1.0, 0);
        float[] inv = RotaryEmbedding.inverseFrequencies(4, 10000.0, linear);
        assertArrayEquals(new float[] {0.25f, 0.0025f}, inv, 1e-9f);
    }

    @Test
    void apply_shiftedPositions_keepQueryKeyDotProducts() {
        ModelConfig config = LlamaModelTest.tinyConfig(2, true, false);
        RotaryEmbedding rope = new RotaryEmbedding(config);
        Random rng = new Random(1);
        float[] q = new float[8];
        float[] k = new float[8];
        for (int i = 0; i < 8; i++) {
            q[i] = (float) rng.nextGaussian();
            k[i] = (float) rng.nextGaussian();
        }
        try (NDManager m = Peft4j.newManager()) {
            float near = dot(m, rope, q, k, 3, 10);
            float far = dot(m, rope, q, k, 50, 57);
            float other = dot(m, rope, q, k, 3, 11);
            assertEquals(near, far, 1e-4f);
            assertEquals(true, Math.abs(near - other) > 1e-3f);
        }
    }

    private static float dot(NDManager m, RotaryEmbedding rope, float[] q, float[] k, int posQ, int posK) {
        RotaryEmbedding.Tables tq = rope.tables(new int[][] {{posQ}}, 1f, m);
        RotaryEmbedding.Tables tk = rope.tables(new int[][] {{posK}}, 1f, m);
        NDArray rq = RotaryEmbedding.apply(m.create(q, new Shape(1, 1, 1, 8)), tq.cos(), tq.sinSigned());
        NDArray rk = RotaryEmbedding.apply(m.create(k, new Shape(1, 1, 1, 8)), tk.cos(), tk.sinSigned());
        return rq.mul(rk).sum().getFloat();
    }
}
