package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Builds a {@link ModelConfig} from a GGUF file's {@code {arch}.*} metadata (llama.cpp's key names), so a GGUF
 * and the equivalent Hugging Face {@code config.json} give the same config. FLOAT32 values (rms epsilon, rope
 * base) are taken at their shortest decimal form ({@code 1e-5f} becomes {@code 1e-5}, as in config.json). The
 * vocabulary size is {@code {arch}.vocab_size}, else the length of {@code tokenizer.ggml.tokens}, else the rows of
 * {@code token_embd.weight}; embeddings are tied when the file has no {@code output.weight}.
 *
 * <pre>{@code
 * try (GgufFile gguf = GgufFile.open(path)) {
 *     ModelConfig config = GgufModelConfig.from(gguf);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufModelConfig {
    private static final Logger LOG = LoggerFactory.getLogger(GgufModelConfig.class);
    private static final Map<String, String> HF_ARCH = Map.of(
            "llama", "LlamaForCausalLM",
            "mistral", "MistralForCausalLM",
            "qwen2", "Qwen2ForCausalLM",
            "gemma", "GemmaForCausalLM",
            "phi3", "Phi3ForCausalLM");

    private GgufModelConfig() {
    }

    /** The config of {@code gguf}; missing or malformed keys raise an exception naming the file and key. */
    public static ModelConfig from(GgufFile gguf) throws CheckpointFormatException {
        String arch = gguf.architecture();
        String p = arch + ".";
        int hidden = required(gguf, p + "embedding_length");
        int heads = required(gguf, p + "attention.head_count");
        try {
            return new ModelConfig(HF_ARCH.getOrDefault(arch, arch + "ForCausalLM"), arch,
                    vocabSize(gguf, p), hidden,
                    required(gguf, p + "feed_forward_length"),
                    required(gguf, p + "block_count"), heads,
                    gguf.getInt(p + "attention.head_count_kv", heads),
                    gguf.getInt(p + "attention.key_length", hidden / Math.max(1, heads)),
                    decimal(gguf, p + "attention.layer_norm_rms_epsilon", Double.NaN),
                    decimal(gguf, p + "rope.freq_base", 10000.0),
                    ropeScaling(gguf, p),
                    gguf.getInt(p + "context_length", 2048),
                    gguf.tensor("output.weight").isEmpty(),
                    gguf.tensor("blk.0.attn_q.bias").isPresent(),
                    gguf.getInt("tokenizer.ggml.bos_token_id", -1),
                    gguf.getInt("tokenizer.ggml.eos_token_id", -1));
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(gguf.path(), e.getMessage());
        }
    }

    private static int vocabSize(GgufFile gguf, String p) throws CheckpointFormatException {
        int v = gguf.getInt(p + "vocab_size", -1);
        if (v > 0) {
            return v;
        }
        Object tokens = gguf.metadata().get("tokenizer.ggml.tokens");
        if (tokens instanceof List<?> list && !list.isEmpty()) {
            return list.size();
        }
        GgufTensorInfo embd = gguf.tensor("token_embd.weight").orElseThrow(() -> new CheckpointFormatException(
                gguf.path(), "no vocabulary size: '" + p + "vocab_size', 'tokenizer.ggml.tokens' and tensor "
                + "'token_embd.weight' are all missing"));
        return Math.toIntExact(embd.shape()[0]);
    }

    private static ModelConfig.RopeScaling ropeScaling(GgufFile gguf, String p) throws CheckpointFormatException {
        String type = gguf.getString(p + "rope.scaling.type").orElse("none");
        if (gguf.tensor("rope_freqs.weight").isPresent()) {
            LOG.warn("{}: has a rope_freqs tensor (llama3-style rope scaling); peft4j does not map it to rope_scaling",
                    gguf.path());
        }
        if ("none".equals(type)) {
            return ModelConfig.RopeScaling.NONE;
        }
        double factor = decimal(gguf, p + "rope.scaling.factor", 1.0);
        int original = gguf.getInt(p + "rope.scaling.original_context_length", 0);
        return new ModelConfig.RopeScaling(type, factor, 1.0, 1.0, original);
    }

    private static int required(GgufFile gguf, String key) throws CheckpointFormatException {
        int v = gguf.getInt(key, -1);
        if (v <= 0) {
            throw new CheckpointFormatException(gguf.path(), "metadata '" + key + "' is missing or not positive");
        }
        return v;
    }

    /** A FLOAT32 at its shortest decimal (1e-5f becomes 1e-5), a FLOAT64 as is; NaN fallback means required. */
    private static double decimal(GgufFile gguf, String key, double fallback) throws CheckpointFormatException {
        Object v = gguf.metadata().get(key);
        if (v == null) {
            if (Double.isNaN(fallback)) {
                throw new CheckpointFormatException(gguf.path(), "metadata '" + key + "' is missing");
            }
            return fallback;
        }
        if (v instanceof Float f) {
            return Double.parseDouble(Float.toString(f));
        }
        return gguf.getDouble(key, fallback);
    }
}
