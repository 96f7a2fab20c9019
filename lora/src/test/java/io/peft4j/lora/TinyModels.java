package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;

/** Tiny random LLaMA models and helpers shared by the LoRA tests. */
final class TinyModels {
    static final int VOCAB = 61;

    private TinyModels() {
    }

    /** 2 layers, hidden 32, 4 heads of 8, 2 kv heads, SwiGLU 48, tied embeddings. */
    static ModelConfig config(int hidden) {
        return new ModelConfig("LlamaForCausalLM", "llama", VOCAB, hidden, 48, 2, 4, 2, hidden / 4, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);
    }

    static LlamaModel model(NDManager manager) {
        return LlamaModel.random(config(32), 42, manager);
    }

    static NDArray ids(NDManager m) {
        return m.create(new long[] {1, 5, 9, 33, 2, 60, 7, 4, 11, 3, 8, 12}, new Shape(2, 6));
    }

    static float[] logits(PeftModel peft, NDArray ids) {
        try (NDScope scope = new NDScope()) {
            return peft.forward(ids, null, null).toFloatArray();
        }
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

    /** The gradients of {@code params}, in order, as one flat array. */
    static float[] flatGradients(java.util.List<NDArray> params) {
        int n = 0;
        for (NDArray p : params) {
            n += (int) p.size();
        }
        float[] grads = new float[n];
        int off = 0;
        for (NDArray p : params) {
            float[] g = p.getGradient().toFloatArray();
            System.arraycopy(g, 0, grads, off, g.length);
            off += g.length;
        }
        return grads;
    }
}
