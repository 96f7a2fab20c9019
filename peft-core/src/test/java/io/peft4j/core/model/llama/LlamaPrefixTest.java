package io.peft4j.core.model.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.block.KeyValues;
import io.peft4j.core.model.block.PrefixKeyValues;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attention prefixes (prefix tuning) on a tiny random LLaMA with grouped-query attention. The independent reference:
 * when the prefix holds the keys and values the model itself cached for a prompt {@code u}, the logits of an input
 * {@code x} after the prefix must be the logits of {@code u ++ x} at {@code x}'s positions, because the prefix then
 * is exactly that past. Checked for the graph path, the inference path, left-padded batches and decoding.
 */
class LlamaPrefixTest {
    static final long[] PROMPT = {3, 17, 29, 5, 44};
    static final long[] INPUT = {8, 13, 21, 34, 55, 1};
    static NDManager manager;
    static LlamaModel model;

    @BeforeAll
    static void setUp() {
        manager = Peft4j.newManager();
        model = LlamaModel.random(LlamaModelTest.tinyConfig(2, true, true), 11, manager);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        manager.close();
    }

    /** The keys and values the model caches for {@code prompt} ({@code [1, kvHeads, P, D]} per layer, copies). */
    static PrefixKeyValues prefixOf(long[] prompt) {
        List<KeyValues> layers = new ArrayList<>();
        try (LlamaKvCache cache = (LlamaKvCache) model.newKvCache(1); NDScope scope = new NDScope()) {
            model.forward(ids(prompt), null, cache);
            for (int l = 0; l < model.config().numLayers(); l++) {
                KeyValues kv = cache.cached(l);
                NDArray k = kv.keys().duplicate();
                NDArray v = kv.values().duplicate();
                k.attach(manager);
                v.attach(manager);
                NDScope.unregister(k, v);
                layers.add(new KeyValues(k, v));
            }
        }
        return new PrefixKeyValues(layers);
    }

    static NDArray ids(long[] tokens) {
        return manager.create(tokens, new Shape(1, tokens.length));
    }

    static long[] concat(long[] a, long[] b) {
        long[] out = new long[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static float[] wantAfterPrompt() {
        try (NDScope scope = new NDScope()) {
            return model.forward(ids(concat(PROMPT, INPUT)), null, null)
                    .get(new NDIndex(":, " + PROMPT.length + ":, :")).toFloatArray();
        }
    }

    @Test
    void graphPath_prefixOfAPromptsKeys_equalsThePromptFollowedByTheInput() {
        PrefixKeyValues prefix = prefixOf(PROMPT);
        float[] want = wantAfterPrompt();
        try (NDScope scope = new NDScope()) {
            NDArray x = ids(INPUT);
            float[] got = model.forwardEmbeddings(model.embed(x), null, null, prefix).toFloatArray();
            assertTrue(maxAbsDiff(want, got) < 1e-5f, "max |Δ| " + maxAbsDiff(want, got));
            // a mask of ones is the same forward
            float[] masked = model.forwardEmbeddings(model.embed(x), manager.ones(new Shape(1, INPUT.length)), null,
                    prefix).toFloatArray();
            assertTrue(maxAbsDiff(want, masked) < 1e-5f, "with a mask: max |Δ| " + maxAbsDiff(want, masked));
        }
    }

    @Test
    void inferencePath_seedsATemporaryCache_sameLogits() {
        PrefixKeyValues prefix = prefixOf(PROMPT);
        float[] want = wantAfterPrompt();
        try (Inference.Scope inference = Inference.enter(); NDScope scope = new NDScope()) {
            float[] got = model.forwardEmbeddings(model.embed(ids(INPUT)), null, null, prefix).toFloatArray();
            assertTrue(maxAbsDiff(want, got) < 1e-5f, "max |Δ| " + maxAbsDiff(want, got));
        }
    }

    @Test
    void leftPaddedBatch_withCache_eachRowAsAlone_andDecodingContinues() {
        PrefixKeyValues prefix = prefixOf(PROMPT);
        long[] shortInput = {9, 14, 2};
        long next = 40;
        try (Inference.Scope inference = Inference.enter(); NDScope scope = new NDScope();
             KvCache batchCache = model.newKvCache(2)) {
            long[] padded = new long[2 * INPUT.length];
            float[] mask = new float[2 * INPUT.length];
            for (int t = 0; t < INPUT.length; t++) {
                padded[t] = INPUT[t];
                mask[t] = 1;
                int s = t - (INPUT.length - shortInput.length);
                padded[INPUT.length + t] = s >= 0 ? shortInput[s] : 0;
                mask[INPUT.length + t] = s >= 0 ? 1 : 0;
            }
            NDArray batchIds = manager.create(padded, new Shape(2, INPUT.length));
            NDArray batchMask = manager.create(mask, new Shape(2, INPUT.length));
            NDArray first = model.forwardEmbeddings(model.embed(batchIds), batchMask, batchCache, prefix)
                    .get(new NDIndex(":, -1, :"));
            assertEquals(PROMPT.length + INPUT.length, batchCache.length());
            NDArray second = model.forwardLast(manager.create(new long[] {next, next}, new Shape(2, 1)),
                    manager.ones(new Shape(2, 1)), batchCache);
            long[][] rows = {INPUT, shortInput};
            for (int r = 0; r < 2; r++) {
                float[] alone;
                float[] aloneNext;
                try (NDScope s2 = new NDScope()) {
                    NDArray full = model.forward(ids(concat(concat(PROMPT, rows[r]), new long[] {next})), null, null);
                    int n = PROMPT.length + rows[r].length;
                    alone = full.get(new NDIndex(":, " + (n - 1) + ", :")).toFloatArray();
                    aloneNext = full.get(new NDIndex(":, " + n + ", :")).toFloatArray();
                }
                float[] got = first.get(r).toFloatArray();
                float[] gotNext = second.get(r).toFloatArray();
                assertTrue(maxAbsDiff(alone, got) < 1e-5f, "row " + r + " prefill: " + maxAbsDiff(alone, got));
                assertTrue(maxAbsDiff(aloneNext, gotNext) < 1e-5f, "row " + r + " decode: "
                        + maxAbsDiff(aloneNext, gotNext));
            }
        }
    }

    @Test
    void gradient_reachesEveryLayersPrefix_andMatchesFiniteDifferences() {
        PrefixKeyValues fixed = prefixOf(PROMPT);
        List<KeyValues> trainable = new ArrayList<>();
        for (KeyValues kv : fixed.layers()) {
            kv.keys().setRequiresGradient(true);
            kv.values().setRequiresGradient(true);
            trainable.add(kv);
        }
        PrefixKeyValues prefix = new PrefixKeyValues(trainable);
        NDArray weights = manager.randomNormal(new Shape(1, INPUT.length, LlamaModelTest.VOCAB));
        try (NDScope scope = new NDScope()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forwardEmbeddings(model.embed(ids(INPUT)), null, null, prefix);
                gc.backward(logits.mul(weights).sum());
            }
            for (int l = 0; l < trainable.size(); l++) {
                for (NDArray a : new NDArray[] {trainable.get(l).keys(), trainable.get(l).values()}) {
                    float norm = a.getGradient().abs().sum().getFloat();
                    assertTrue(norm > 1e-4f, "layer " + l + " gradient norm " + norm);
                }
            }
            // d loss / d (layer 0 value [0, 1, 2, 3]) against a central difference
            NDArray v0 = trainable.get(0).values();
            float analytic = v0.getGradient().getFloat(0, 1, 2, 3);
            float h = 1e-2f;
            float base = v0.getFloat(0, 1, 2, 3);
            float[] f = new float[2];
            for (int s = 0; s < 2; s++) {
                v0.set(new NDIndex("0, 1, 2, 3"), base + (s == 0 ? h : -h));
                f[s] = model.forwardEmbeddings(model.embed(ids(INPUT)), null, null, prefix).mul(weights).sum()
                        .getFloat();
            }
            v0.set(new NDIndex("0, 1, 2, 3"), base);
            float numeric = (f[0] - f[1]) / (2 * h);
            assertTrue(Math.abs(numeric - analytic) <= 2e-2f * Math.max(1f, Math.abs(analytic)),
                    "analytic " + analytic + " vs numeric " + numeric);
        }
    }

    @Test
    void badPrefixes_areRefusedWithTheReason() {
        PrefixKeyValues prefix = prefixOf(PROMPT);
        try (NDScope scope = new NDScope()) {
            PrefixKeyValues oneLayer = new PrefixKeyValues(prefix.layers().subList(0, 1));
            IllegalArgumentException layers = assertThrows(IllegalArgumentException.class,
                    () -> model.forwardEmbeddings(model.embed(ids(INPUT)), null, null, oneLayer));
            assertTrue(layers.getMessage().contains("needs 2 layers"), layers.getMessage());
            KeyValues kv = prefix.layers().get(1);
            PrefixKeyValues wrongHeads = new PrefixKeyValues(List.of(prefix.layers().get(0),
                    new KeyValues(kv.keys().reshape(1, 1, -1, 8), kv.values().reshape(1, 1, -1, 8))));
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> model.forwardEmbeddings(model.embed(ids(INPUT)), null, null, wrongHeads));
            assertTrue(shape.getMessage().startsWith("prefix layer 1 must be [1 or 1, 2, 5, 8]"), shape.getMessage());
            try (KvCache used = model.newKvCache(1)) {
                model.forward(ids(new long[] {1, 2}), null, used);
                IllegalStateException full = assertThrows(IllegalStateException.class,
                        () -> model.forwardEmbeddings(model.embed(ids(INPUT)), null, used, prefix));
                assertTrue(full.getMessage().contains("empty cache"), full.getMessage());
            }
        }
    }
}
