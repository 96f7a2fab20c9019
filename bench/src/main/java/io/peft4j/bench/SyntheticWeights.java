package io.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.checkpoint.TensorSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random weights of a LLaMA-shaped model under Hugging Face tensor names, generated on demand: nothing is
 * held, each tensor is drawn when it is read (the same values every time for a name and seed), so a quantize-on-load
 * factory sees one fp32 weight at a time and the whole model never exists in fp32. Projections are uniform with
 * standard deviation 1/√in (what keeps activations of a random deep net finite), norms 1 ± 0.05, the embedding and
 * lm_head std 0.02. Thread-safe (stateless after construction). {@link #SHAPES} is the one list of shapes the
 * benches build (peft4j's side and, through its arguments, {@code bench_peft.py --synthetic}).
 */
final class SyntheticWeights implements TensorSource {
    /**
     * Shapes that can be built, by name: TinyLlama-1.1B (22 layers, hidden 2048, GQA 32/4, vocab 32000) and
     * SmolLM2-360M (32 layers, hidden 960, GQA 15/5, vocab 49152, tied embeddings), as their config.json give them.
     */
    static final Map<String, ModelConfig> SHAPES;

    static {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("smollm2-360m", new ModelConfig("LlamaForCausalLM", "llama", 49152, 960, 2560, 32, 15, 5, 64, 1e-5,
                100000.0, ModelConfig.RopeScaling.NONE, 8192, true, false, 1, 2));
        m.put("tinyllama-1.1b", new ModelConfig("LlamaForCausalLM", "llama", 32000, 2048, 5632, 22, 32, 4, 64, 1e-5,
                10000.0, ModelConfig.RopeScaling.NONE, 2048, false, false, 1, 2));
        SHAPES = java.util.Collections.unmodifiableMap(m);
    }

    private final String name;
    private final long seed;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    SyntheticWeights(String name, ModelConfig c, long seed) {
        this.name = name;
        this.seed = seed;
        long h = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        shapes.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {h});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {h});
            shapes.put(p + "mlp.gate_proj.weight", new long[] {inter, h});
            shapes.put(p + "mlp.up_proj.weight", new long[] {inter, h});
            shapes.put(p + "mlp.down_proj.weight", new long[] {h, inter});
        }
        shapes.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            shapes.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
    }

    /**
     * {@code bench_peft.py}'s arguments for the same shape: {@code --synthetic NAME --layers ... --vocab V [--tied]}.
     */
    static List<String> peerArgs(String name, ModelConfig c) {
        List<String> a = new ArrayList<>(List.of("--synthetic", name, "--layers", "" + c.numLayers(),
                "--hidden", "" + c.hiddenSize(), "--intermediate", "" + c.intermediateSize(),
                "--heads", "" + c.numHeads(), "--kv-heads", "" + c.numKvHeads(), "--vocab", "" + c.vocabSize(),
                "--rope-theta", "" + c.ropeTheta(), "--rms-eps", "" + c.rmsNormEps()));
        if (c.tieWordEmbeddings()) {
            a.add("--tied");
        }
        return a;
    }

    @Override
    public Path path() {
        return Path.of("synthetic:" + name);
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(shapes.keySet());
    }

    @Override
    public boolean contains(String tensor) {
        return shapes.containsKey(tensor);
    }

    @Override
    public long[] shape(String tensor) {
        return shapeOf(tensor).clone();
    }

    private long[] shapeOf(String tensor) {
        long[] s = shapes.get(tensor);
        if (s == null) {
            throw new IllegalArgumentException("no tensor '" + tensor + "' in " + path());
        }
        return s;
    }

    @Override
    public String dtype(String tensor) {
        shapeOf(tensor);
        return "F32";
    }

    @Override
    public long storedBytes(String tensor) {
        return numel(shapeOf(tensor)) * 4;
    }

    @Override
    public float[] readFloats(String tensor) {
        float[] v = new float[Math.toIntExact(numel(shapeOf(tensor)))];
        readFloats(tensor, v);
        return v;
    }

    @Override
    public void readFloats(String tensor, float[] dst) {
        int n = Math.toIntExact(numel(shapeOf(tensor)));
        if (dst.length < n) {
            throw new IllegalArgumentException("tensor '" + tensor + "' has " + n + " values, the buffer holds "
                    + dst.length);
        }
        fill(tensor, FloatBuffer.wrap(dst, 0, n));
    }

    /** Draws {@code tensor}'s values into {@code dst} (exactly its element count remaining), in order. */
    private void fill(String tensor, FloatBuffer dst) {
        long[] s = shapeOf(tensor);
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + tensor.hashCode());
        boolean norm = s.length == 1;
        double std = norm ? 0.05 : tensor.contains("_proj") ? 1.0 / Math.sqrt(s[1]) : 0.02;
        double half = std * Math.sqrt(3);           // uniform on [-half, half] has this std
        double mean = norm ? 1.0 : 0.0;
        while (dst.hasRemaining()) {
            dst.put((float) (mean + half * (2 * rng.nextDouble() - 1)));
        }
    }

    /**
     * Drawn straight into a direct buffer the array aliases: fp32 tensors of the synthetic models (embedding and
     * lm_head, 262 MB each for TinyLlama's shape) never pass through the Java heap, whose high-water mark would stay
     * in the process's RSS.
     */
    @Override
    public NDArray load(String tensor, NDManager manager) {
        long[] shape = shapeOf(tensor);
        long bytes = numel(shape) * Float.BYTES;
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + tensor + "' needs " + bytes + " bytes, over a direct "
                    + "buffer's 2 GiB");
        }
        ByteBuffer bb = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        fill(tensor, bb.asFloatBuffer());
        return manager.create(bb, new Shape(shape), DataType.FLOAT32);
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public void close() {
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
