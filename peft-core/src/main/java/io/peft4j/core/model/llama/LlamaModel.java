package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Inference;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.TokenEmbedding;
import io.peft4j.core.model.VirtualTokens;
import io.peft4j.core.model.block.AttentionLayout;
import io.peft4j.core.model.block.PrefixKeyValues;
import io.peft4j.core.model.block.RmsNorm;
import io.peft4j.core.model.block.RotaryEmbedding;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The LLaMA-family decoder (Llama 1/2/3, TinyLlama, SmolLM/SmolLM2, Mistral, Qwen2) computed in fp32 the way
 * transformers' {@code LlamaForCausalLM} computes it: token embedding, pre-norm blocks of RMSNorm, rotary
 * grouped-query attention (optional q/k/v bias) and a SwiGLU MLP, a final RMSNorm and the lm_head (tied to the
 * embedding or separate). Every projection is a {@link LinearLayer} under its Hugging Face module path, so
 * quantized or LoRA layers replace them by path. Base parameters are frozen; the forward is differentiable
 * into whatever trainable layers are swapped in.
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(checkpoint.config(), checkpoint.tensors(), manager);
 *      NDScope scope = new NDScope()) {
 *     NDArray logits = model.forward(ids, null, null);   // ids [B, T] int64 -> [B, T, vocab]
 * }
 * }</pre>
 * Not thread-safe: one forward at a time. Close the model to free its weights.
 *
 * @since 0.1.0
 */
public final class LlamaModel implements CausalLM {
    static final String LM_HEAD = "lm_head";
    static final String EMBED_TOKENS = "model.embed_tokens.weight";

    private final ModelConfig config;
    private final NDManager manager;
    private final OverridableEmbedding embedding; // [vocab, hidden]
    private final RmsNorm finalNorm;        // weight [hidden]
    private final DecoderLayer[] layers;
    private final RotaryEmbedding rope;
    private final Map<String, LinearLayer> linears; // module path -> layer, model order, lm_head last
    private final float attentionScale;
    private final Map<String, RmsNorm> norms;      // Hugging Face weight name -> norm

    LlamaModel(ModelConfig config, NDManager manager, TokenEmbedding embedding, RmsNorm[] inputNorms,
               RmsNorm[] postNorms, RmsNorm finalNorm, LinkedHashMap<String, LinearLayer> linears) {
        this.config = config;
        this.manager = manager;
        this.embedding = new OverridableEmbedding(embedding);
        this.finalNorm = finalNorm;
        this.linears = linears;
        this.rope = new RotaryEmbedding(config);
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
        this.layers = new DecoderLayer[config.numLayers()];
        this.norms = new LinkedHashMap<>();
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new DecoderLayer(i, config, inputNorms[i], postNorms[i], linears);
            norms.put(DecoderLayer.prefix(i) + "input_layernorm.weight", inputNorms[i]);
            norms.put(DecoderLayer.prefix(i) + "post_attention_layernorm.weight", postNorms[i]);
        }
        norms.put("model.norm.weight", finalNorm);
    }

    /**
     * Reads a model from {@code weights} (Hugging Face tensor names), each tensor once; projections are built by
     * {@code factory} (dense, quantized on load, ...). The model's arrays live in a sub-manager of {@code parent}.
     */
    public static LlamaModel load(ModelConfig config, TensorSource weights, LinearLayerFactory factory,
                                  NDManager parent) throws CheckpointFormatException {
        return LlamaLoader.load(config, weights, factory, parent);
    }

    /** {@link #load(ModelConfig, TensorSource, LinearLayerFactory, NDManager)} with dense fp32 projections. */
    public static LlamaModel load(ModelConfig config, TensorSource weights, NDManager parent)
            throws CheckpointFormatException {
        return LlamaLoader.load(config, weights, DenseLinearFactory.INSTANCE, parent);
    }

    /** A model with seeded random weights (same seed, same weights), for tests. */
    public static LlamaModel random(ModelConfig config, long seed, NDManager parent) {
        return LlamaLoader.random(config, seed, parent);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return linears.get(LM_HEAD).forward(hidden(embed(inputIds), attentionMask, cache));
    }

    @Override
    public NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        NDArray hidden = hidden(embed(inputIds), attentionMask, cache);
        return linears.get(LM_HEAD).forward(hidden.get(new NDIndex(":, -1, :")));
    }

    @Override
    public NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        return linears.get(LM_HEAD).forward(hidden(inputEmbeddings, attentionMask, cache));
    }

    @Override
    public NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache,
                                     PrefixKeyValues prefix) {
        return linears.get(LM_HEAD).forward(hidden(inputEmbeddings, attentionMask, cache, prefix));
    }

    /**
     * {@link #hidden(NDArray, NDArray, KvCache)} with an attention prefix (see
     * {@link CausalLM#forwardEmbeddings(NDArray, NDArray, KvCache, PrefixKeyValues)}). In the graph (no cache, not
     * in an inference scope) every layer concatenates its prefix before the input's keys and values; otherwise the
     * prefix is copied into the cache (a temporary one when none is given) and the plain path runs over it.
     */
    public NDArray hidden(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache, PrefixKeyValues prefix) {
        if (prefix == null) {
            return hidden(inputEmbeddings, attentionMask, cache);
        }
        checkEmbeddings(inputEmbeddings);
        int b = Math.toIntExact(inputEmbeddings.getShape().get(0));
        prefix.check(config.numLayers(), b, config.numKvHeads(), config.headDim());
        LlamaKvCache kv = ownCache(cache, b);
        if (kv == null && !Inference.active()) {
            return graphLayers(inputEmbeddings, prefixInputs(inputEmbeddings, attentionMask, prefix), null);
        }
        LlamaKvCache seeded = kv != null ? kv : (LlamaKvCache) newKvCache(b);
        try {
            seeded.seedPrefix(prefix);
            return hidden(inputEmbeddings, attentionMask, seeded);
        } finally {
            if (kv == null) {
                seeded.close();
            }
        }
    }

    /**
     * The final-norm hidden states {@code [B, T, hidden]} (what the lm_head reads) for input embeddings
     * {@code [B, T, hidden]}; mask and cache as in {@link #forward}. Outside a {@code GradientCollector} the layers
     * run one scope at a time and long sequences in chunks (see {@link InferenceForward}), so memory grows linearly
     * with the sequence. Refuses more positions than the context window ({@link ContextWindowException}).
     */
    public NDArray hidden(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        checkEmbeddings(inputEmbeddings);
        LlamaKvCache kv = ownCache(cache, Math.toIntExact(inputEmbeddings.getShape().get(0)));
        int tokens = Math.toIntExact(inputEmbeddings.getShape().get(1));
        ContextWindowException.check(config, (kv == null ? 0 : kv.length()) + tokens,
                kv == null || kv.length() == 0 ? "sequence" : "cached plus new sequence");
        if (Inference.active()) {
            return finalNorm.forward(InferenceForward.layers(this, inputEmbeddings, attentionMask, kv));
        }
        return graphLayers(inputEmbeddings, layerInputs(inputEmbeddings, attentionMask, kv), kv);
    }

    private void checkEmbeddings(NDArray inputEmbeddings) {
        if (inputEmbeddings.getShape().dimension() != 3 || inputEmbeddings.getShape().get(2) != config.hiddenSize()) {
            throw new IllegalArgumentException("input embeddings must be [B, T, " + config.hiddenSize() + "], got "
                    + inputEmbeddings.getShape());
        }
    }

    /** Every decoder layer in one graph (gradients flow), then the final norm; commits {@code kv} when given. */
    private NDArray graphLayers(NDArray inputEmbeddings, LayerInputs in, LlamaKvCache kv) {
        NDArray x = inputEmbeddings;
        for (DecoderLayer layer : layers) {
            x = layer.forward(x, in, kv);
        }
        if (kv != null) {
            kv.commit();
        }
        return finalNorm.forward(x);
    }

    /**
     * What every decoder layer reads besides its input.
     *
     * @param queryRope rotation tables for queries, carrying the 1/√D attention scale
     * @param keyRope   rotation tables for keys
     * @param bias      additive attention mask, or {@code null} when nothing is masked
     */
    record LayerInputs(RotaryEmbedding.Tables queryRope, RotaryEmbedding.Tables keyRope, NDArray bias,
                       PrefixKeyValues prefix) {
        LayerInputs(RotaryEmbedding.Tables queryRope, RotaryEmbedding.Tables keyRope, NDArray bias) {
            this(queryRope, keyRope, bias, null);
        }
    }

    /**
     * Layer inputs of a graph forward after {@code prefix}: its P positions are real keys before the input's. Refuses
     * a prefix that does not fit the model or the batch, and P + T beyond the context window.
     */
    LayerInputs prefixInputs(NDArray inputEmbeddings, NDArray attentionMask, PrefixKeyValues prefix) {
        int b = Math.toIntExact(inputEmbeddings.getShape().get(0));
        int t = Math.toIntExact(inputEmbeddings.getShape().get(1));
        prefix.check(config.numLayers(), b, config.numKvHeads(), config.headDim());
        int p = prefix.length();
        ContextWindowException.check(config, p + t, "prefix plus sequence");
        AttentionLayout layout = new AttentionLayout(prefix.realPositions(b), p,
                AttentionLayout.readMask(attentionMask, b, t), b, t);
        return inputsFor(layout, inputEmbeddings.getManager(), prefix);
    }

    /** Rope tables (queries scaled by 1/√D) and bias of {@code layout}, in {@code m}. */
    private LayerInputs inputsFor(AttentionLayout layout, NDManager m, PrefixKeyValues prefix) {
        RotaryEmbedding.Tables keyRope = rope.tables(layout.positions(), 1f, m);
        return new LayerInputs(keyRope.scaled(attentionScale), keyRope, layout.bias(m), prefix);
    }

    /** Rope tables and attention bias for {@code inputEmbeddings [B, T, hidden]} (begins the cache step if any). */
    LayerInputs layerInputs(NDArray inputEmbeddings, NDArray attentionMask, LlamaKvCache kv) {
        int b = Math.toIntExact(inputEmbeddings.getShape().get(0));
        int t = Math.toIntExact(inputEmbeddings.getShape().get(1));
        boolean[][] mask = AttentionLayout.readMask(attentionMask, b, t);
        AttentionLayout layout = kv == null ? new AttentionLayout(new boolean[b][0], 0, mask, b, t) : kv.begin(mask, t);
        return inputsFor(layout, inputEmbeddings.getManager(), null);
    }

    /**
     * Rope tables and attention bias of a training forward (no cache) over {@code inputEmbeddings [B, T, hidden]}:
     * {@code attentionMask [B, T]} holds 0 for padding and else the 1-based sequence number of each token, so
     * packed rows get a block-diagonal causal bias; {@code positionIds [B, T]} are the rope positions, or
     * {@code null}. Without packing (mask values 0/1 or null) and without position ids this is exactly
     * {@link #layerInputs}.
     */
    LayerInputs trainingInputs(NDArray inputEmbeddings, NDArray attentionMask, NDArray positionIds) {
        int b = Math.toIntExact(inputEmbeddings.getShape().get(0));
        int t = Math.toIntExact(inputEmbeddings.getShape().get(1));
        int[][] sequences = attentionMask == null ? null
                : AttentionLayout.readInts(attentionMask, b, t, "attentionMask");
        if (positionIds == null && (sequences == null || !AttentionLayout.isPacked(sequences))) {
            return layerInputs(inputEmbeddings, attentionMask, null);
        }
        if (sequences == null) {
            sequences = new int[b][t];
            for (int[] row : sequences) {
                Arrays.fill(row, 1);
            }
        }
        int[][] positions = positionIds == null ? null : AttentionLayout.readInts(positionIds, b, t, "positionIds");
        return inputsFor(AttentionLayout.packed(sequences, positions), inputEmbeddings.getManager(), null);
    }

    /** The token embedding as forwards read it (its override, else the stored one). */
    OverridableEmbedding embedding() {
        return embedding;
    }

    DecoderLayer[] decoderLayers() {
        return layers;
    }

    /** Logits {@code [..., vocab]} of the last layer's output {@code [B, T, hidden]} or rows {@code [n, hidden]}. */
    NDArray head(NDArray lastLayerOutput) {
        return linears.get(LM_HEAD).forward(finalNorm.forward(lastLayerOutput));
    }

    /** Layer by layer, as the next method without virtual tokens. */
    @Override
    public float backward(NDArray inputIds, NDArray attentionMask, NDArray positionIds,
                          Function<NDArray, NDArray> loss, boolean checkpointActivations, long rngSeed) {
        return backward(inputIds, attentionMask, positionIds, null, loss, checkpointActivations, rngSeed);
    }

    /**
     * Layer by layer with per-layer dropout seeds ({@link ActivationCheckpointing}): with {@code checkpointActivations}
     * only each layer's input is kept and the layer recomputed in backward; packed rows get a block-diagonal bias
     * ({@link #trainingInputs}); virtual tokens go before the embeddings or before every layer's keys and values.
     */
    @Override
    public float backward(NDArray inputIds, NDArray attentionMask, NDArray positionIds,
                          Supplier<VirtualTokens> virtualTokens, Function<NDArray, NDArray> loss,
                          boolean checkpointActivations, long rngSeed) {
        ContextWindowException.check(config, Math.toIntExact(inputIds.getShape().get(1)), "training sequence");
        return ActivationCheckpointing.backward(this, new ActivationCheckpointing.Inputs(inputIds, attentionMask,
                positionIds, virtualTokens), loss, checkpointActivations, rngSeed);
    }

    private LlamaKvCache ownCache(KvCache cache, int batch) {
        if (cache == null) {
            return null;
        }
        if (!(cache instanceof LlamaKvCache kv)) {
            throw new IllegalArgumentException("cache was not made by this model's newKvCache: " + cache.getClass());
        }
        if (kv.batchSize() != batch) {
            throw new IllegalArgumentException("cache batch " + kv.batchSize() + " != input batch " + batch);
        }
        return kv;
    }

    @Override
    public NDArray embed(NDArray inputIds) {
        if (inputIds.getShape().dimension() != 2) {
            throw new IllegalArgumentException("inputIds must be [B, T], got " + inputIds.getShape());
        }
        return embedding.lookup(inputIds);
    }

    @Override
    public Map<String, LinearLayer> linearLayers() {
        return Collections.unmodifiableMap(linears);
    }

    @Override
    public LinearLayer replaceLinear(String modulePath, LinearLayer layer) {
        LinearLayer old = linears.get(modulePath);
        if (old == null) {
            throw new IllegalArgumentException("no linear layer at '" + modulePath + "' (e.g. "
                    + DecoderLayer.projectionPaths(0)[0] + ", " + LM_HEAD + ")");
        }
        if (layer.inFeatures() != old.inFeatures() || layer.outFeatures() != old.outFeatures()) {
            throw new IllegalArgumentException("layer for '" + modulePath + "' must be " + old.inFeatures() + " -> "
                    + old.outFeatures() + ", got " + layer.inFeatures() + " -> " + layer.outFeatures());
        }
        linears.put(modulePath, layer);
        return old;
    }

    /**
     * The weights that are not projections, by Hugging Face name ({@code model.embed_tokens.weight},
     * {@code model.layers.N.input_layernorm.weight}, ..., {@code model.norm.weight}); not copies.
     */
    @Override
    public Map<String, NDArray> otherWeights() {
        LinkedHashMap<String, Supplier<NDArray>> out = new LinkedHashMap<>();
        out.put(EMBED_TOKENS, embedding.stored()::table); // a quantized embedding builds its table when read
        norms.forEach((name, norm) -> out.put(name, norm::weight));
        return new LazyValues(out);
    }

    /**
     * Makes every following forward read {@code weight.get()} instead of the stored weight {@code name} (a name of
     * {@link #otherWeights()}) whenever it returns non-null; {@code null} removes the override. The stored weight
     * is never changed. Used for trainable copies (PEFT's {@code modules_to_save}).
     */
    @Override
    public void overrideWeight(String name, Supplier<NDArray> weight) {
        if (name.equals(EMBED_TOKENS)) {
            embedding.override(weight);
        } else {
            norm(name).override(weight);
        }
    }

    @Override
    public Supplier<NDArray> weightOverride(String name) {
        return name.equals(EMBED_TOKENS) ? embedding.override() : norm(name).override();
    }

    private RmsNorm norm(String name) {
        RmsNorm n = norms.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no weight '" + name + "' besides the projections (e.g. "
                    + EMBED_TOKENS + ", model.norm.weight, " + DecoderLayer.prefix(0) + "input_layernorm.weight)");
        }
        return n;
    }

    @Override
    public KvCache newKvCache(int batchSize) {
        return new LlamaKvCache(manager, config.numLayers(), batchSize, config.numKvHeads(), config.headDim());
    }

    @Override
    public void close() {
        for (LinearLayer layer : linears.values()) {
            layer.close();
        }
        manager.close();
    }
}
