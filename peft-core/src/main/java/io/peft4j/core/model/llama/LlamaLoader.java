package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.core.model.TokenEmbedding;
import io.peft4j.core.model.block.RmsNorm;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Random;

/** Builds {@link LlamaModel}s: streamed from a checkpoint tensor by tensor, or from a seeded RNG for tests. */
final class LlamaLoader {
    private static final Logger LOG = LoggerFactory.getLogger(LlamaLoader.class);

    private LlamaLoader() {
    }

    static LlamaModel load(ModelConfig c, TensorSource w, LinearLayerFactory factory, NDManager parent)
            throws CheckpointFormatException {
        LlamaFamily family = new LlamaFamily();
        if (!family.modelTypes().contains(c.modelType()) && !family.architectures().contains(c.architecture())) {
            throw new CheckpointFormatException(w.path(), "model_type '" + c.modelType() + "' (architecture '"
                    + c.architecture() + "') is not a LLaMA-family model; supported: " + ModelFamilies.supported());
        }
        long start = System.nanoTime();
        NDManager m = parent.newSubManager();
        LinkedHashMap<String, LinearLayer> linears = new LinkedHashMap<>();
        try {
            checkShape(w, LlamaModel.EMBED_TOKENS, c.vocabSize(), c.hiddenSize());
            TokenEmbedding embedding = factory.embedding(LlamaModel.EMBED_TOKENS, w, m);
            RmsNorm[] inNorms = new RmsNorm[c.numLayers()];
            RmsNorm[] postNorms = new RmsNorm[c.numLayers()];
            for (int i = 0; i < c.numLayers(); i++) {
                String p = DecoderLayer.prefix(i);
                inNorms[i] = new RmsNorm(tensor(w, p + "input_layernorm.weight", m, c.hiddenSize()), c.rmsNormEps());
                String[] paths = DecoderLayer.projectionPaths(i);
                long[][] dims = projectionDims(c);
                for (int j = 0; j < paths.length; j++) {
                    if (j == 4) {
                        postNorms[i] = new RmsNorm(tensor(w, p + "post_attention_layernorm.weight", m,
                                c.hiddenSize()), c.rmsNormEps());
                    }
                    linears.put(paths[j], checked(factory.create(paths[j], w, m), paths[j], dims[j], w));
                }
            }
            RmsNorm finalNorm = new RmsNorm(tensor(w, "model.norm.weight", m, c.hiddenSize()), c.rmsNormEps());
            linears.put(LlamaModel.LM_HEAD, lmHead(c, w, factory, m, embedding));
            LOG.info("loaded {} ({} layers, hidden {}) from {} in {} ms", c.architecture(), c.numLayers(),
                    c.hiddenSize(), w.path(), (System.nanoTime() - start) / 1_000_000);
            return new LlamaModel(c, m, embedding, inNorms, postNorms, finalNorm, linears);
        } catch (CheckpointFormatException | RuntimeException e) {
            linears.values().forEach(LinearLayer::close);
            m.close();
            throw e;
        }
    }

    private static LinearLayer lmHead(ModelConfig c, TensorSource w, LinearLayerFactory factory, NDManager m,
                                      TokenEmbedding embedding) throws CheckpointFormatException {
        boolean present = w.contains(LlamaModel.LM_HEAD + ".weight");
        if (present && !c.tieWordEmbeddings()) {
            return checked(factory.create(LlamaModel.LM_HEAD, w, m), LlamaModel.LM_HEAD,
                    new long[] {c.hiddenSize(), c.vocabSize()}, w);
        }
        if (!present && !c.tieWordEmbeddings()) {
            LOG.warn("{}: no lm_head.weight although tie_word_embeddings=false; tying it to the embedding", w.path());
        }
        LinearLayer tied = factory.tiedHead(LlamaModel.LM_HEAD, LlamaModel.EMBED_TOKENS, w, embedding, m);
        return checked(tied, LlamaModel.LM_HEAD, new long[] {c.hiddenSize(), c.vocabSize()}, w);
    }

    /** {in, out} of q, k, v, o, gate, up, down. */
    private static long[][] projectionDims(ModelConfig c) {
        long h = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        return new long[][] {{h, q}, {h, kv}, {h, kv}, {q, h}, {h, inter}, {h, inter}, {inter, h}};
    }

    private static LinearLayer checked(LinearLayer layer, String path, long[] inOut, TensorSource w)
            throws CheckpointFormatException {
        if (layer.inFeatures() != inOut[0] || layer.outFeatures() != inOut[1]) {
            layer.close();
            throw new CheckpointFormatException(w.path(), path + ".weight", "expected [" + inOut[1] + ", "
                    + inOut[0] + "] for the model config, got [" + layer.outFeatures() + ", " + layer.inFeatures() + "]");
        }
        return layer;
    }

    private static NDArray tensor(TensorSource w, String name, NDManager m, long... shape)
            throws CheckpointFormatException {
        checkShape(w, name, shape);
        return w.loadWeight(name, m);
    }

    private static void checkShape(TensorSource w, String name, long... shape) throws CheckpointFormatException {
        if (!w.contains(name)) {
            throw new CheckpointFormatException(w.path(), name, "missing from the checkpoint");
        }
        long[] actual = w.shape(name);
        if (!Arrays.equals(actual, shape)) {
            throw new CheckpointFormatException(w.path(), name, "expected shape " + Arrays.toString(shape)
                    + " for the model config, got " + Arrays.toString(actual));
        }
    }

    static LlamaModel random(ModelConfig c, long seed, NDManager parent) {
        Random rng = new Random(seed);
        NDManager m = parent.newSubManager();
        NDArray embedding = gaussian(rng, m, 1.0, 0.0, c.vocabSize(), c.hiddenSize());
        RmsNorm[] inNorms = new RmsNorm[c.numLayers()];
        RmsNorm[] postNorms = new RmsNorm[c.numLayers()];
        LinkedHashMap<String, LinearLayer> linears = new LinkedHashMap<>();
        long[][] dims = projectionDims(c);
        for (int i = 0; i < c.numLayers(); i++) {
            inNorms[i] = new RmsNorm(gaussian(rng, m, 0.1, 1.0, c.hiddenSize()), c.rmsNormEps());
            postNorms[i] = new RmsNorm(gaussian(rng, m, 0.1, 1.0, c.hiddenSize()), c.rmsNormEps());
            String[] paths = DecoderLayer.projectionPaths(i);
            for (int j = 0; j < paths.length; j++) {
                NDArray weight = gaussian(rng, m, 1.0 / Math.sqrt(dims[j][0]), 0.0, dims[j][1], dims[j][0]);
                NDArray bias = c.attentionBias() && j < 3 ? gaussian(rng, m, 0.1, 0.0, dims[j][1]) : null;
                linears.put(paths[j], new DenseLinear(weight, bias));
            }
        }
        RmsNorm finalNorm = new RmsNorm(gaussian(rng, m, 0.1, 1.0, c.hiddenSize()), c.rmsNormEps());
        NDArray head = c.tieWordEmbeddings() ? embedding
                : gaussian(rng, m, 1.0 / Math.sqrt(c.hiddenSize()), 0.0, c.vocabSize(), c.hiddenSize());
        linears.put(LlamaModel.LM_HEAD, new DenseLinear(head, null));
        return new LlamaModel(c, m, TokenEmbedding.of(embedding), inNorms, postNorms, finalNorm, linears);
    }

    private static NDArray gaussian(Random rng, NDManager m, double std, double mean, long... shape) {
        float[] v = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * rng.nextGaussian());
        }
        return m.create(v, new Shape(shape));
    }
}
