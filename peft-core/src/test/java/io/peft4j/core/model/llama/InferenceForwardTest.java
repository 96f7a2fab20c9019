package io.peft4j.core.model.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Inference;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.testing.ForwardingLinear;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chunked, one-layer-at-a-time inference forward: same logits as one pass, memory bounded per layer and chunk. */
class InferenceForwardTest {
    private static final Logger LOG = LoggerFactory.getLogger(InferenceForwardTest.class);
    static final int VOCAB = 97;
    static NDManager manager;
    static LlamaModel model;

    /** 8 query heads over 2 kv heads (GQA, 4 queries per kv head), 3 layers, context 2048. */
    static ModelConfig config(int layers) {
        return new ModelConfig("LlamaForCausalLM", "llama", VOCAB, 64, 96, layers, 8, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 2048, true, false, -1, -1);
    }

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        model = LlamaModel.random(config(3), 5, manager);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    @Test
    void chunkedPrefill_leftPaddedGqaBatch_equalsSinglePass() {
        int t = 600;               // chunks of 256, 256, 88
        int pad = 300;             // row 1: its whole first chunk is padding
        assertTrue(t > 2 * InferenceForward.CHUNK && pad > InferenceForward.CHUNK);

        long[] ids = randomIds(2 * (t + 1), 1);
        long[] mask = new long[2 * (t + 1)];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = i >= t + 1 && i < t + 1 + pad ? 0 : 1;
        }
        try (NDManager m = manager.newSubManager(); NDScope scope = new NDScope()) {
            NDArray all = m.create(ids, new Shape(2, t + 1));
            NDArray allMask = m.create(mask, new Shape(2, t + 1));
            NDArray prompt = all.get(":, :" + t);
            NDArray promptMask = allMask.get(":, :" + t);
            float[] single;
            float[] singleNext;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {  // recording: one pass
                single = model.forward(prompt, promptMask, null).toFloatArray();
                singleNext = model.forwardLast(all, allMask, null).toFloatArray();
            }
            float[] chunked;
            float[] cached;
            float[] next;
            try (Inference.Scope inference = Inference.enter()) {   // what Generator and eval enter
                chunked = model.forward(prompt, promptMask, null).toFloatArray();
                KvCache cache = model.newKvCache(2);
                cached = model.forward(prompt, promptMask, cache).toFloatArray();
                next = model.forwardLast(all.get(":, " + t + ":"), null, cache).toFloatArray();
                cache.close();
            }

            assertEquals(single.length, chunked.length);
            double chunkDiff = 0;
            double cacheDiff = 0;
            double scale = 0;
            // real positions only: a padding query masks every key (causal ones too) with the same finite value,
            // so its softmax is uniform over however many keys the call holds; nothing real ever reads it
            for (int i = 0; i < single.length; i++) {
                int row = i / (t * VOCAB);
                int pos = i / VOCAB % t;
                if (mask[row * (t + 1) + pos] == 0) {
                    continue;
                }
                chunkDiff = Math.max(chunkDiff, Math.abs(single[i] - chunked[i]));
                cacheDiff = Math.max(cacheDiff, Math.abs(single[i] - cached[i]));
                scale = Math.max(scale, Math.abs(single[i]));
            }
            double nextDiff = 0;
            for (int i = 0; i < next.length; i++) {
                nextDiff = Math.max(nextDiff, Math.abs(singleNext[i] - next[i]));
            }
            assertTrue(scale > 0.1, "logits not trivially zero: " + scale);
            assertTrue(chunkDiff < 1e-4, "chunked vs single pass: " + chunkDiff);
            assertTrue(cacheDiff < 1e-4, "chunked into a cache vs single pass: " + cacheDiff);
            assertTrue(nextDiff < 1e-4, "next token after a chunked prefill: " + nextDiff);
        }
    }

    @Test
    void prefill_freesEachLayerBeforeTheNext_andLiveBytesGrowLinearly() {
        try (NDManager root = Peft4j.newManager(); LlamaModel deep = LlamaModel.random(config(6), 9, root)) {
            List<long[]> probes = new ArrayList<>();     // {layer, live arrays, live bytes} at each down_proj
            for (int l = 0; l < 6; l++) {
                String path = DecoderLayer.prefix(l) + "mlp.down_proj";
                deep.replaceLinear(path, new Probe(deep.linearLayers().get(path), root, l, probes));
            }
            long[] at512 = prefill(deep, root, 512, probes, false);
            long[] at1024 = prefill(deep, root, 1024, probes, false);
            long[] recorded = prefill(deep, root, 512, probes, true);
            LOG.info("live arrays gained from layer 0 to 5 / peak live MB: 512 tokens {} / {}, 1024 tokens {} / {}, "
                    + "recording 512 tokens {} / {}", at512[0], at512[1] >> 20, at1024[0], at1024[1] >> 20,
                    recorded[0], recorded[1] >> 20);
            assertEquals(4 * 6, at1024[2], "4 chunks of 256 through 6 layers");
            // the probe does see accumulation: with a graph recorded every layer's intermediates stay alive
            assertTrue(recorded[0] > 100, "recording path: " + recorded[0]);
            // without one, a layer leaves only its output behind
            assertTrue(at512[0] <= 2 && at1024[0] <= 2, "arrays gained per 5 layers: " + at512[0] + ", " + at1024[0]);
            // scores [1, 8, 256, keys] per chunk: linear in the length; unchunked [1, 8, T, T] would be quadratic
            assertTrue(at1024[1] < 2.3 * at512[1], "peak live bytes 512 -> 1024 tokens: " + at512[1] + " -> "
                    + at1024[1]);
            long oneLayerScoresAndProbs = 2L * 8 * 1024 * 1024 * 4;
            assertTrue(at1024[1] < oneLayerScoresAndProbs, "peak " + at1024[1] + " bytes, while one unchunked layer's "
                    + "scores and probabilities alone take " + oneLayerScoresAndProbs);
        }
    }

    /**
     * Runs one prefill of {@code t} tokens; returns {max over chunks of (arrays at the last layer - arrays at the
     * first), peak live bytes above the weights, probe calls}.
     */
    private static long[] prefill(LlamaModel deep, NDManager root, int t, List<long[]> probes, boolean recording) {
        probes.clear();
        long weights = liveBytes(root);
        try (NDManager m = root.newSubManager(); NDScope scope = new NDScope();
             KvCache cache = recording ? null : deep.newKvCache(1)) {
            NDArray ids = m.create(randomIds(t, 3), new Shape(1, t));
            if (recording) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    deep.forwardLast(ids, null, null).toFloatArray();
                }
            } else {
                try (Inference.Scope inference = Inference.enter()) {
                    deep.forwardLast(ids, null, cache).toFloatArray();
                }
            }
        }
        long growth = 0;
        long peak = 0;
        for (int i = 0; i < probes.size(); i++) {
            long[] p = probes.get(i);
            peak = Math.max(peak, p[2] - weights);
            if (p[0] == 5) {
                growth = Math.max(growth, p[1] - probes.get(i - 5)[1]);
            }
        }
        return new long[] {growth, peak, probes.size()};
    }

    static long liveBytes(NDManager root) {
        long bytes = 0;
        for (NDArray a : root.getManagedArrays()) {
            bytes += a.size() * a.getDataType().getNumOfBytes();
        }
        return bytes;
    }

    static long[] randomIds(int n, long seed) {
        Random rng = new Random(seed);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(VOCAB);
        }
        return ids;
    }

    /** A projection that records the live arrays and bytes under {@code root} each time it runs. */
    private static final class Probe extends ForwardingLinear {
        private final NDManager root;
        private final int layer;
        private final List<long[]> out;

        Probe(LinearLayer inner, NDManager root, int layer, List<long[]> out) {
            super(inner);
            this.root = root;
            this.layer = layer;
            this.out = out;
        }

        @Override
        public NDArray forward(NDArray x) {
            out.add(new long[] {layer, root.getManagedArrays().size(), liveBytes(root)});
            return super.forward(x);
        }
    }
}
