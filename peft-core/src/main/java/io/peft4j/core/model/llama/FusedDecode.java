package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.decode.NativeViews;
import io.peft4j.core.model.block.AttentionLayout;
import io.peft4j.core.model.block.CachedKeyValues;
import io.peft4j.core.model.block.GroupedQueryAttention;
import io.peft4j.core.model.block.RotaryEmbedding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A decode step (one new token for each of at most {@value #MAX_ROWS} rows, with a cache) of a {@link LlamaModel} on
 * Java arrays. The general path costs about 60 libtorch calls per layer, ~1,900 per token on SmolLM2, which took as
 * long as the 4-bit matrix-vector kernels themselves. Here the norms, rotations, SwiGLU and residuals are Java loops;
 * the projections go through their row kernels ({@link LinearLayer#forwardRows}: quantized blocks straight from Java,
 * LoRA deltas on top); the new keys and values are written into the cache's buffers through direct views of their
 * memory; and attention reads those buffers in place ({@link GroupedQueryAttention#attendRows}). No libtorch call is
 * left inside the layers. A projection whose current state has no row kernel (merged or DoRA adapters, say) is
 * multiplied in libtorch for that call, so every adapter keeps working. Sums run in another order than libtorch's, so
 * logits differ from the general path by fp32 rounding (FusedDecodeTest: below 2e-5 on a tiny model).
 * <p>
 * Taken when {@code -Dpeft4j.decode.fused} is not {@code off} and every projection of every layer
 * {@linkplain LinearLayer#hasRowKernel has a row kernel} (quantized models; fp32 layers keep libtorch's GEMV). Each
 * distinct decision is logged once at INFO with its reason; {@link #decision()} and {@link #steps()} report it to
 * benches and tests. Thread-safe.
 * <pre>{@code
 * long before = FusedDecode.steps();
 * generator.generate(prompt, config);                 // decode steps of a quantized model
 * String why = FusedDecode.decision();                // "on: every projection has a row kernel, ..."
 * }</pre>
 *
 * @since 0.1.0
 */
public final class FusedDecode {
    /** System property: {@code auto} (default) or {@code off}. */
    static final String PROPERTY = "peft4j.decode.fused";
    /** The most rows a fused step takes: the crossover of the quantized row kernels. */
    static final int MAX_ROWS = 16;
    private static final boolean ENABLED = !"off".equals(System.getProperty(PROPERTY, "auto").trim()
            .toLowerCase(Locale.ROOT));
    private static final Logger LOG = LoggerFactory.getLogger(FusedDecode.class);
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();
    private static final LongAdder STEPS = new LongAdder();
    private static volatile Boolean viewsAlias;
    private static volatile String decision = "not taken yet: no decode step has run";

    private FusedDecode() {
    }

    /** Whether a forward of {@code batch} rows of one token with {@code cache} takes the fused path (logs why once). */
    static boolean takes(LlamaModel model, int batch, int tokens, LlamaKvCache cache) {
        if (tokens != 1 || cache == null) {
            return false;   // prefill or a cacheless forward: the general path, nothing to report
        }
        String refusal = refusal(model, batch);
        String decision = refusal == null ? "on: every projection has a row kernel, up to " + MAX_ROWS + " rows"
                : "off: " + refusal;
        FusedDecode.decision = decision;
        if (LOGGED.add(decision)) {
            LOG.info("fused decode {}", decision);
        }
        return refusal == null;
    }

    /** The last decision on a decode step in this JVM, with its reason ({@code on: ...} or {@code off: ...}). */
    public static String decision() {
        return decision;
    }

    /** Decode steps that took the fused path so far in this JVM. */
    public static long steps() {
        return STEPS.sum();
    }

    private static boolean viewsAlias(LlamaModel model) {
        Boolean alias = viewsAlias;
        if (alias == null) {
            alias = NativeViews.alias(model.manager());
            viewsAlias = alias;
        }
        return alias;
    }

    private static String refusal(LlamaModel model, int batch) {
        if (!ENABLED) {
            return "-D" + PROPERTY + "=off";
        }
        if (!viewsAlias(model)) {
            return "the engine's toByteBuffer(true) returns copies, not views of the cache buffers";
        }
        if (batch > MAX_ROWS) {
            return "a batch of " + batch + " rows is over " + MAX_ROWS;
        }
        for (DecoderLayer layer : model.decoderLayers()) {
            LinearLayer[] projections = layer.projections();
            for (int i = 0; i < projections.length; i++) {
                if (!projections[i].hasRowKernel()) {
                    return DecoderLayer.projectionPaths(0)[i].replace(".0.", ".N.") + " is "
                            + projections[i].getClass().getSimpleName() + ", which has no row kernel";
                }
            }
        }
        return null;
    }

    /**
     * The last decoder layer's output {@code [B, 1, hidden]} for {@code embeddings [B, 1, hidden]}; appends to and
     * commits {@code cache}.
     */
    static NDArray layers(LlamaModel model, NDArray embeddings, NDArray attentionMask, LlamaKvCache cache) {
        ModelConfig c = model.config();
        NDManager m = embeddings.getManager();
        int b = Math.toIntExact(embeddings.getShape().get(0));
        int d = c.headDim();
        AttentionLayout layout = cache.begin(AttentionLayout.readMask(attentionMask, b, 1), 1);
        Step s = new Step(b, c);
        RotaryEmbedding rope = new RotaryEmbedding(c);
        float queryScale = (float) (1.0 / Math.sqrt(d));
        for (int r = 0; r < b; r++) {
            int position = layout.positions()[r][0];
            rope.row(position, 1f, s.cos, s.sin, r * d);
            rope.row(position, queryScale, s.queryCos, s.querySin, r * d);
        }
        float[] x = embeddings.toFloatArray();
        DecoderLayer[] layers = model.decoderLayers();
        for (int l = 0; l < layers.length; l++) {
            layer(l, layers[l], x, s, layout.keyMask(), cache, m);
        }
        cache.commit();
        STEPS.increment();
        return m.create(x, new Shape(b, 1, c.hiddenSize()));
    }

    /** One pre-norm block on {@code x [B, hidden]} in place (see {@link DecoderLayer#forward}). */
    private static void layer(int index, DecoderLayer layer, float[] x, Step s, boolean[][] keyMask, LlamaKvCache cache,
                              NDManager m) {
        LinearLayer[] p = layer.projections();
        int b = s.rows;
        int d = s.headDim;
        int heads = s.heads;
        int kvHeads = s.kvHeads;
        layer.inputNorm().forwardRows(x, b, s.normed);
        project(p[0], s.normed, b, s.q, m);
        project(p[1], s.normed, b, s.k, m);
        project(p[2], s.normed, b, s.v, m);
        for (int r = 0; r < b; r++) {
            RotaryEmbedding.rotate(s.q, r * heads * d, heads, d, s.queryCos, s.querySin, r * d);
            RotaryEmbedding.rotate(s.k, r * kvHeads * d, kvHeads, d, s.cos, s.sin, r * d);
        }
        CachedKeyValues kv = cache.appendRow(index, s.k, s.v);
        GroupedQueryAttention.attendRows(s.q, b, heads, kv, keyMask, s.context);
        project(p[3], s.context, b, s.out, m);
        add(x, s.out);
        layer.postAttnNorm().forwardRows(x, b, s.normed);
        project(p[4], s.normed, b, s.gate, m);
        project(p[5], s.normed, b, s.up, m);
        float[] g = s.gate;
        float[] u = s.up;
        for (int i = 0; i < g.length; i++) {
            float sigmoid = (float) (1.0 / (1.0 + Math.exp(-g[i])));
            g[i] = g[i] * sigmoid * u[i];
        }
        project(p[6], g, b, s.out, m);
        add(x, s.out);
    }

    /** {@code out = layer(in)} through its row kernel, or through libtorch when its current state has none. */
    private static void project(LinearLayer layer, float[] in, int rows, float[] out, NDManager m) {
        if (layer.forwardRows(in, rows, out)) {
            return;
        }
        try (NDScope scope = new NDScope()) {
            float[] y = layer.forward(m.create(in, new Shape(rows, layer.inFeatures()))).toFloatArray();
            System.arraycopy(y, 0, out, 0, y.length);
        }
    }

    private static void add(float[] x, float[] delta) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
    }

    /** Shapes and work arrays of one decode step, reused by every layer. */
    private static final class Step {
        final int rows;
        final int heads;
        final int kvHeads;
        final int headDim;
        final float[] normed;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] context;
        final float[] out;
        final float[] gate;
        final float[] up;
        final float[] cos;       // [rows, D] key rotation
        final float[] sin;
        final float[] queryCos;  // [rows, D] query rotation, times 1/√D
        final float[] querySin;

        Step(int rows, ModelConfig c) {
            this.rows = rows;
            this.heads = c.numHeads();
            this.kvHeads = c.numKvHeads();
            this.headDim = c.headDim();
            this.normed = new float[rows * c.hiddenSize()];
            this.q = new float[rows * heads * headDim];
            this.k = new float[rows * kvHeads * headDim];
            this.v = new float[rows * kvHeads * headDim];
            this.context = new float[rows * heads * headDim];
            this.out = new float[rows * c.hiddenSize()];
            this.gate = new float[rows * c.intermediateSize()];
            this.up = new float[rows * c.intermediateSize()];
            this.cos = new float[rows * headDim];
            this.sin = new float[rows * headDim];
            this.queryCos = new float[rows * headDim];
            this.querySin = new float[rows * headDim];
        }
    }
}
