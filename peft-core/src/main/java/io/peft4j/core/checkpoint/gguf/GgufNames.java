package io.peft4j.core.checkpoint.gguf;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps llama.cpp tensor names to Hugging Face (transformers LLaMA/Qwen2) names and undoes the row permutation
 * llama.cpp's {@code convert_hf_to_gguf.py} applies to LLaMA q/k projections.
 *
 * <p>The converter stores {@code permute(w, n_head)}: the rows of each head, viewed as
 * {@code [n_head, 2, head_dim/2, in]}, are swapped to {@code [n_head, head_dim/2, 2, in]} (interleaved rotary
 * pairs). {@link #unpermuteRows} applies the inverse. Stateless and thread-safe.
 *
 * <pre>{@code
 * String hf = GgufNames.toHf("blk.3.attn_q.weight");   // model.layers.3.self_attn.q_proj.weight
 * float[] w = GgufNames.unpermuteRows(gguf.dequantize(t), 9, 576);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufNames {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.(weight|bias)");
    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    private static final Map<String, String> IN_BLOCK = Map.of(
            "attn_q", "self_attn.q_proj",
            "attn_k", "self_attn.k_proj",
            "attn_v", "self_attn.v_proj",
            "attn_output", "self_attn.o_proj",
            "ffn_gate", "mlp.gate_proj",
            "ffn_up", "mlp.up_proj",
            "ffn_down", "mlp.down_proj",
            "attn_norm", "input_layernorm",
            "ffn_norm", "post_attention_layernorm");

    private GgufNames() {
    }

    /** The Hugging Face name of a llama.cpp tensor, or empty when it has no Hugging Face counterpart. */
    public static Optional<String> toHf(String ggufName) {
        String g = GLOBAL.get(ggufName);
        if (g != null) {
            return Optional.of(g);
        }
        Matcher m = BLOCK.matcher(ggufName);
        if (m.matches() && IN_BLOCK.containsKey(m.group(2))) {
            return Optional.of("model.layers." + m.group(1) + "." + IN_BLOCK.get(m.group(2)) + "." + m.group(3));
        }
        return Optional.empty();
    }

    /** {@code q} or {@code k} when the tensor is a permuted LLaMA query/key projection (weight or bias). */
    public static Optional<String> permutedProjection(String ggufName) {
        Matcher m = BLOCK.matcher(ggufName);
        if (m.matches() && (m.group(2).equals("attn_q") || m.group(2).equals("attn_k"))) {
            return Optional.of(m.group(2).equals("attn_q") ? "q" : "k");
        }
        return Optional.empty();
    }

    /**
     * Inverse of llama.cpp's {@code permute(w, nHead)} on a row-major {@code [rows, cols]} matrix (a bias has
     * {@code cols = 1}): row {@code h*hd + 2*i + j} of the input becomes row {@code h*hd + j*hd/2 + i}.
     *
     * @throws IllegalArgumentException when {@code rows} is not a multiple of {@code 2 * nHead}
     */
    public static float[] unpermuteRows(float[] w, int nHead, int cols) {
        float[] out = w.clone();
        unpermuteRows(out, w.length, nHead, cols);
        return out;
    }

    /**
     * As {@link #unpermuteRows(float[], int, int)} in place on {@code w[0 .. length)} (one head's rows are copied
     * aside at a time).
     */
    public static void unpermuteRows(float[] w, int length, int nHead, int cols) {
        if (nHead <= 0 || cols <= 0 || length % cols != 0 || length > w.length) {
            throw new IllegalArgumentException("cannot un-permute " + length + " values as rows of " + cols
                    + " for " + nHead + " heads");
        }
        int rows = length / cols;
        if (rows % (2 * nHead) != 0) {
            throw new IllegalArgumentException(rows + " rows are not a multiple of 2 x " + nHead + " heads");
        }
        int hd = rows / nHead;
        int half = hd / 2;
        float[] head = new float[hd * cols];
        for (int h = 0; h < nHead; h++) {
            System.arraycopy(w, h * hd * cols, head, 0, head.length);
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int src = 2 * i + j;
                    int dst = h * hd + j * half + i;
                    System.arraycopy(head, src * cols, w, dst * cols, cols);
                }
            }
        }
    }
}
