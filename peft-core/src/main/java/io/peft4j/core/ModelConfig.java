package io.peft4j.core;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;

/**
 * Shape and numerics of a LLaMA-family decoder, from a Hugging Face {@code config.json} or GGUF metadata.
 *
 * <pre>{@code
 * ModelConfig config = ModelConfig.fromHfConfig(Json.MAPPER.readTree(configFile.toFile()), configFile);
 * int headDim = config.headDim();
 * }</pre>
 *
 * @param architecture    e.g. {@code LlamaForCausalLM}
 * @param modelType       e.g. {@code llama}, {@code mistral}, {@code qwen2}
 * @param vocabSize       rows of the embedding matrix
 * @param hiddenSize      model width
 * @param intermediateSize SwiGLU inner width
 * @param numLayers       decoder blocks
 * @param numHeads        query heads
 * @param numKvHeads      key/value heads (GQA when smaller than {@code numHeads})
 * @param headDim         per-head width (usually {@code hiddenSize / numHeads})
 * @param rmsNormEps      RMSNorm epsilon
 * @param ropeTheta       rotary base
 * @param ropeScaling     rotary scaling or {@link RopeScaling#NONE}
 * @param maxPositions    {@code max_position_embeddings}
 * @param tieWordEmbeddings lm_head shares the embedding matrix
 * @param attentionBias   q/k/v projections carry a bias (Qwen2)
 * @param bosTokenId      -1 when unknown
 * @param eosTokenId      -1 when unknown
 *
 * @since 0.1.0
 */
public record ModelConfig(String architecture, String modelType, int vocabSize, int hiddenSize, int intermediateSize,
                          int numLayers, int numHeads, int numKvHeads, int headDim, double rmsNormEps,
                          double ropeTheta, RopeScaling ropeScaling, int maxPositions, boolean tieWordEmbeddings,
                          boolean attentionBias, int bosTokenId, int eosTokenId) {

    public ModelConfig {
        require(vocabSize > 0, "vocab_size", vocabSize);
        require(hiddenSize > 0, "hidden_size", hiddenSize);
        require(intermediateSize > 0, "intermediate_size", intermediateSize);
        require(numLayers > 0, "num_hidden_layers", numLayers);
        require(numHeads > 0, "num_attention_heads", numHeads);
        require(numKvHeads > 0 && numHeads % numKvHeads == 0, "num_key_value_heads", numKvHeads);
        require(headDim > 0, "head_dim", headDim);
        require(rmsNormEps > 0, "rms_norm_eps", rmsNormEps);
        require(ropeTheta > 0, "rope_theta", ropeTheta);
        if (ropeScaling == null) {
            ropeScaling = RopeScaling.NONE;
        }
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid model config: " + field + " = " + value);
        }
    }

    /** Rotary position scaling ({@code rope_scaling}); {@code type} is none, linear or llama3. */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositions) {
        public static final RopeScaling NONE = new RopeScaling("none", 1.0, 1.0, 1.0, 0);
    }

    /** Parses a Hugging Face {@code config.json}; {@code file} is named in errors. */
    public static ModelConfig fromHfConfig(JsonNode json, Path file) throws CheckpointFormatException {
        try {
            int hidden = requiredInt(json, "hidden_size", file);
            int heads = requiredInt(json, "num_attention_heads", file);
            String arch = json.path("architectures").path(0).asText("LlamaForCausalLM");
            String type = json.path("model_type").asText("llama");
            return new ModelConfig(arch, type,
                    requiredInt(json, "vocab_size", file), hidden,
                    requiredInt(json, "intermediate_size", file),
                    requiredInt(json, "num_hidden_layers", file), heads,
                    json.path("num_key_value_heads").asInt(heads),
                    json.hasNonNull("head_dim") ? json.get("head_dim").asInt() : hidden / heads,
                    json.path("rms_norm_eps").asDouble(1e-6),
                    ropeTheta(json),
                    ropeScaling(json.hasNonNull("rope_scaling") ? json.path("rope_scaling")
                            : json.path("rope_parameters")),
                    json.path("max_position_embeddings").asInt(2048),
                    json.path("tie_word_embeddings").asBoolean(false),
                    json.path("attention_bias").asBoolean("qwen2".equals(type)),
                    firstInt(json.path("bos_token_id")), firstInt(json.path("eos_token_id")));
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(file, e.getMessage());
        }
    }

    /** {@code rope_theta}, or transformers 5's {@code rope_parameters.rope_theta} (its save_pretrained writes only that). */
    private static double ropeTheta(JsonNode json) {
        return json.hasNonNull("rope_theta") ? json.get("rope_theta").asDouble()
                : json.path("rope_parameters").path("rope_theta").asDouble(10000.0);
    }

    private static RopeScaling ropeScaling(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return RopeScaling.NONE;
        }
        String type = node.has("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("none");
        if ("default".equals(type)) {
            return RopeScaling.NONE;
        }
        return new RopeScaling(type, node.path("factor").asDouble(1.0), node.path("low_freq_factor").asDouble(1.0),
                node.path("high_freq_factor").asDouble(4.0), node.path("original_max_position_embeddings").asInt(8192));
    }

    private static int requiredInt(JsonNode json, String field, Path file) throws CheckpointFormatException {
        JsonNode v = json.get(field);
        if (v == null || !v.canConvertToInt()) {
            throw new CheckpointFormatException(file, "config field '" + field + "' is missing or not an integer");
        }
        return v.asInt();
    }

    private static int firstInt(JsonNode node) {
        if (node.isArray()) {
            return node.size() > 0 ? node.get(0).asInt(-1) : -1;
        }
        return node.asInt(-1);
    }

    /** This config as a Hugging Face {@code config.json} tree (the inverse of {@link #fromHfConfig}). */
    public com.fasterxml.jackson.databind.node.ObjectNode toHfConfig() {
        com.fasterxml.jackson.databind.node.ObjectNode n = Json.MAPPER.createObjectNode();
        n.putArray("architectures").add(architecture);
        n.put("model_type", modelType);
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("num_key_value_heads", numKvHeads);
        n.put("head_dim", headDim);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        if (!"none".equals(ropeScaling.type())) {
            com.fasterxml.jackson.databind.node.ObjectNode r = n.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.type());
            r.put("factor", ropeScaling.factor());
            r.put("low_freq_factor", ropeScaling.lowFreqFactor());
            r.put("high_freq_factor", ropeScaling.highFreqFactor());
            r.put("original_max_position_embeddings", ropeScaling.originalMaxPositions());
        }
        n.put("max_position_embeddings", maxPositions);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("attention_bias", attentionBias);
        n.put("hidden_act", "silu");
        n.put("torch_dtype", "float32");
        if (bosTokenId >= 0) {
            n.put("bos_token_id", bosTokenId);
        }
        if (eosTokenId >= 0) {
            n.put("eos_token_id", eosTokenId);
        }
        return n;
    }

    /** Number of parameters of the dense model with these shapes (embeddings counted once when tied). */
    public long parameterCount() {
        long h = hiddenSize;
        long q = (long) numHeads * headDim;
        long kv = (long) numKvHeads * headDim;
        long attn = h * q + 2 * h * kv + q * h + (attentionBias ? q + 2 * kv : 0);
        long mlp = 3 * h * intermediateSize;
        long perLayer = attn + mlp + 2 * h;
        long embed = (long) vocabSize * h;
        return embed + (tieWordEmbeddings ? 0 : embed) + numLayers * perLayer + h;
    }
}
