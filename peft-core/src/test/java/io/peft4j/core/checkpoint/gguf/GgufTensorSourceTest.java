package io.peft4j.core.checkpoint.gguf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.gguf.GgufNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.floatsLe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny 2-layer LLaMA GGUF (F32) maps to Hugging Face names, shapes and un-permuted q/k rows. */
class GgufTensorSourceTest {
    private static final int HIDDEN = 8;
    private static final int HEADS = 2;
    private static final int KV_HEADS = 1;
    private static final int HEAD_DIM = 4;
    private static final int FFN = 12;
    private static final int VOCAB = 10;

    @TempDir
    Path dir;

    /** Row-major [rows, cols] with value row * 100 + col (so every row is recognisable). */
    private static float[] rows(int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = r * 100 + c;
            }
        }
        return w;
    }

    /**
     * llama.cpp's convert_hf_to_gguf permute: view rows as [nHead, 2, hd/2], swap the last two axes. Element
     * (h, a, b) of the view (HF row h*hd + a*hd/2 + b) lands at GGUF row h*hd + b*2 + a.
     */
    private static float[] llamaCppPermute(float[] hf, int nHead, int cols) {
        int rows = hf.length / cols;
        int hd = rows / nHead;
        float[] out = new float[hf.length];
        for (int h = 0; h < nHead; h++) {
            for (int a = 0; a < 2; a++) {
                for (int b = 0; b < hd / 2; b++) {
                    System.arraycopy(hf, (h * hd + a * hd / 2 + b) * cols, out, (h * hd + b * 2 + a) * cols, cols);
                }
            }
        }
        return out;
    }

    private static void matrix(GgufTestWriter w, String name, int rows, int cols, float[] values) {
        w.tensor(name, new long[] {cols, rows}, 0, floatsLe(values));
    }

    private Path tinyLlama(String arch, boolean tied) throws Exception {
        GgufTestWriter w = new GgufTestWriter().kvString("general.architecture", arch)
                .kvU32(arch + ".embedding_length", HIDDEN).kvU32(arch + ".block_count", 2)
                .kvU32(arch + ".feed_forward_length", FFN).kvU32(arch + ".attention.head_count", HEADS)
                .kvU32(arch + ".attention.head_count_kv", KV_HEADS)
                .kvF32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f).kvF32(arch + ".rope.freq_base", 100000f)
                .kvU32(arch + ".context_length", 64).kvU32("tokenizer.ggml.bos_token_id", 1)
                .kvU32("tokenizer.ggml.eos_token_id", 2)
                .kvStrings("tokenizer.ggml.tokens", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        matrix(w, "token_embd.weight", VOCAB, HIDDEN, rows(VOCAB, HIDDEN));
        w.tensor("output_norm.weight", new long[] {HIDDEN}, 0, floatsLe(rows(1, HIDDEN)));
        if (!tied) {
            matrix(w, "output.weight", VOCAB, HIDDEN, rows(VOCAB, HIDDEN));
        }
        for (int l = 0; l < 2; l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_norm.weight", new long[] {HIDDEN}, 0, floatsLe(rows(1, HIDDEN)));
            w.tensor(b + "ffn_norm.weight", new long[] {HIDDEN}, 0, floatsLe(rows(1, HIDDEN)));
            boolean perm = arch.equals("llama");
            float[] q = rows(HEADS * HEAD_DIM, HIDDEN);
            float[] k = rows(KV_HEADS * HEAD_DIM, HIDDEN);
            matrix(w, b + "attn_q.weight", HEADS * HEAD_DIM, HIDDEN, perm ? llamaCppPermute(q, HEADS, HIDDEN) : q);
            matrix(w, b + "attn_k.weight", KV_HEADS * HEAD_DIM, HIDDEN, perm ? llamaCppPermute(k, KV_HEADS, HIDDEN) : k);
            matrix(w, b + "attn_v.weight", KV_HEADS * HEAD_DIM, HIDDEN, rows(KV_HEADS * HEAD_DIM, HIDDEN));
            if (!perm) {
                w.tensor(b + "attn_q.bias", new long[] {HEADS * HEAD_DIM}, 0, floatsLe(rows(1, HEADS * HEAD_DIM)));
            }
            matrix(w, b + "attn_output.weight", HIDDEN, HEADS * HEAD_DIM, rows(HIDDEN, HEADS * HEAD_DIM));
            matrix(w, b + "ffn_gate.weight", FFN, HIDDEN, rows(FFN, HIDDEN));
            matrix(w, b + "ffn_up.weight", FFN, HIDDEN, rows(FFN, HIDDEN));
            matrix(w, b + "ffn_down.weight", HIDDEN, FFN, rows(HIDDEN, FFN));
        }
        return w.write(dir, arch + (tied ? "-tied" : "") + ".gguf");
    }

    @Test
    void unpermute_handExample_restoresRowOrder() {
        // one head of dim 4: HF rows r0 r1 r2 r3 are stored by llama.cpp as r0 r2 r1 r3
        float[] stored = {0, 2, 1, 3};
        assertArrayEquals(new float[] {0, 1, 2, 3}, GgufNames.unpermuteRows(stored, 1, 1));
        assertArrayEquals(stored, llamaCppPermute(new float[] {0, 1, 2, 3}, 1, 1));
        assertEquals("lm_head.weight", GgufNames.toHf("output.weight").orElseThrow());
        assertEquals("model.layers.12.self_attn.k_proj.bias", GgufNames.toHf("blk.12.attn_k.bias").orElseThrow());
        assertTrue(GgufNames.toHf("rope_freqs.weight").isEmpty());   // kept under its GGUF name by the source
        assertTrue(GgufNames.toHf("blk.0.attn_qkv.weight").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> GgufNames.unpermuteRows(new float[6], 2, 1));
    }

    @Test
    void names_llamaCppToHuggingFace() throws Exception {
        try (GgufTensorSource src = GgufTensorSource.open(tinyLlama("llama", true))) {
            List<String> names = src.names();
            assertEquals(2 + 2 * 9, names.size());
            assertTrue(names.containsAll(List.of("model.embed_tokens.weight", "model.norm.weight",
                    "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
                    "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                    "model.layers.1.mlp.gate_proj.weight", "model.layers.1.mlp.up_proj.weight",
                    "model.layers.1.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight",
                    "model.layers.1.post_attention_layernorm.weight")), names.toString());
            assertFalse(src.contains("lm_head.weight"));
            assertArrayEquals(new long[] {FFN, HIDDEN}, src.shape("model.layers.0.mlp.up_proj.weight"));
            assertArrayEquals(new long[] {HIDDEN, FFN}, src.shape("model.layers.0.mlp.down_proj.weight"));
            assertEquals("F32", src.dtype("model.norm.weight"));
            assertEquals("2", src.metadata().get("llama.block_count"));
            assertEquals("[a, b, c, d, e, f, g, h, i, j]", src.metadata().get("tokenizer.ggml.tokens"));
            assertThrows(IllegalArgumentException.class, () -> src.shape("model.layers.9.mlp.up_proj.weight"));
        }
    }

    @Test
    void readFloats_llamaQk_unpermutedToHfOrder() throws Exception {
        try (GgufTensorSource src = GgufTensorSource.open(tinyLlama("llama", true))) {
            assertArrayEquals(rows(HEADS * HEAD_DIM, HIDDEN), src.readFloats("model.layers.0.self_attn.q_proj.weight"));
            assertArrayEquals(rows(KV_HEADS * HEAD_DIM, HIDDEN),
                    src.readFloats("model.layers.1.self_attn.k_proj.weight"));
            assertArrayEquals(rows(KV_HEADS * HEAD_DIM, HIDDEN),
                    src.readFloats("model.layers.1.self_attn.v_proj.weight"));
            assertArrayEquals(rows(HIDDEN, FFN), src.readFloats("model.layers.1.mlp.down_proj.weight"));
        }
    }

    @Test
    void readFloats_qwen2_notPermuted_biasMapped() throws Exception {
        try (GgufTensorSource src = GgufTensorSource.open(tinyLlama("qwen2", false))) {
            assertArrayEquals(rows(HEADS * HEAD_DIM, HIDDEN), src.readFloats("model.layers.0.self_attn.q_proj.weight"));
            assertArrayEquals(rows(1, HEADS * HEAD_DIM), src.readFloats("model.layers.0.self_attn.q_proj.bias"));
            assertTrue(src.contains("lm_head.weight"));
            ModelConfig c = GgufModelConfig.from(src.file());
            assertTrue(c.attentionBias());
            assertFalse(c.tieWordEmbeddings());
            assertEquals("Qwen2ForCausalLM", c.architecture());
        }
    }

    @Test
    void modelConfig_fromLlamaMetadata_matchesTensors() throws Exception {
        try (GgufTensorSource src = GgufTensorSource.open(tinyLlama("llama", true))) {
            ModelConfig c = GgufModelConfig.from(src.file());
            assertEquals(new ModelConfig("LlamaForCausalLM", "llama", VOCAB, HIDDEN, FFN, 2, HEADS, KV_HEADS, HEAD_DIM,
                    1e-5, 100000.0, ModelConfig.RopeScaling.NONE, 64, true, false, 1, 2), c);
            long fromTensors = 0;
            for (String n : src.names()) {
                long e = 1;
                for (long d : src.shape(n)) {
                    e *= d;
                }
                fromTensors += e;
            }
            assertEquals(fromTensors, c.parameterCount());
        }
    }

    @Test
    void modelConfig_missingKey_namesKey() throws Exception {
        Path p = new GgufTestWriter().kvString("general.architecture", "llama").write(dir, "bare.gguf");
        try (GgufFile g = GgufFile.open(p)) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> GgufModelConfig.from(g));
            assertTrue(e.getMessage().contains("llama.embedding_length"), e.getMessage());
        }
    }

    @Test
    void load_float32NdArray_sameValuesAsReadFloats() throws Exception {
        try (GgufTensorSource src = GgufTensorSource.open(tinyLlama("llama", true));
             NDManager m = Peft4j.newManager()) {
            String name = "model.layers.0.self_attn.q_proj.weight";
            NDArray a = src.load(name, m);
            assertEquals(DataType.FLOAT32, a.getDataType());
            assertArrayEquals(new long[] {HEADS * HEAD_DIM, HIDDEN}, a.getShape().getShape());
            assertArrayEquals(src.readFloats(name), a.toFloatArray());
        }
    }
}
