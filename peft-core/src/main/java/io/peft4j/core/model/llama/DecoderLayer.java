package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.model.block.GroupedQueryAttention;
import io.peft4j.core.model.block.KeyValues;
import io.peft4j.core.model.block.RmsNorm;
import io.peft4j.core.model.block.RotaryEmbedding;

import java.util.Map;
import java.util.function.Supplier;

/**
 * One pre-norm LLaMA block: {@code x + o(attn(rope(q), rope(k), v))}, then {@code x + down(silu(gate)·up)}.
 * Projections are looked up by module path in the model's layer map on every call, so a replaced layer
 * (LoRA, quantized) takes effect without touching this class. Grouped-query attention runs without
 * repeating keys: the queries of one kv head are stacked along the sequence axis instead.
 */
final class DecoderLayer {
    private final int index;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final RmsNorm inputNorm;     // weight [hidden]
    private final RmsNorm postAttnNorm;  // weight [hidden]
    private final Map<String, LinearLayer> linears;
    private final String q;
    private final String k;
    private final String v;
    private final String o;
    private final String gate;
    private final String up;
    private final String down;

    DecoderLayer(int index, ModelConfig config, RmsNorm inputNorm, RmsNorm postAttnNorm,
                 Map<String, LinearLayer> linears) {
        this.index = index;
        this.heads = config.numHeads();
        this.kvHeads = config.numKvHeads();
        this.headDim = config.headDim();
        this.inputNorm = inputNorm;
        this.postAttnNorm = postAttnNorm;
        this.linears = linears;
        String p = prefix(index);
        this.q = p + "self_attn.q_proj";
        this.k = p + "self_attn.k_proj";
        this.v = p + "self_attn.v_proj";
        this.o = p + "self_attn.o_proj";
        this.gate = p + "mlp.gate_proj";
        this.up = p + "mlp.up_proj";
        this.down = p + "mlp.down_proj";
    }

    static String prefix(int index) {
        return "model.layers." + index + ".";
    }

    /** Module paths of this block's projections in Hugging Face order. */
    static String[] projectionPaths(int index) {
        String p = prefix(index);
        return new String[] {p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj",
            p + "self_attn.o_proj", p + "mlp.gate_proj", p + "mlp.up_proj", p + "mlp.down_proj"};
    }

    /** The projections in effect now, in {@link #projectionPaths} order (q, k, v, o, gate, up, down). */
    LinearLayer[] projections() {
        return new LinearLayer[] {linears.get(q), linears.get(k), linears.get(v), linears.get(o), linears.get(gate),
            linears.get(up), linears.get(down)};
    }

    RmsNorm inputNorm() {
        return inputNorm;
    }

    RmsNorm postAttnNorm() {
        return postAttnNorm;
    }

    /**
     * @param x     hidden states {@code [B, T, hidden]}
     * @param in    rotation tables and the additive mask of this call (see {@link LlamaModel.LayerInputs})
     * @param cache the cache to append to, or {@code null}
     */
    NDArray forward(NDArray x, LlamaModel.LayerInputs in, LlamaKvCache cache) {
        NDArray x2 = attentionResidual(x, in, cache);
        NDArray h2 = postAttnNorm.forward(x2);
        NDArray act = swiGlu(linears.get(gate).forward(h2), () -> linears.get(up).forward(h2));
        return x2.add(linears.get(down).forward(act));
    }

    /** The first half: {@code x + o(attn(rope(q), rope(k), v))} over {@code inputNorm(x)}. */
    NDArray attentionResidual(NDArray x, LlamaModel.LayerInputs in, LlamaKvCache cache) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray h = inputNorm.forward(x);
        return x.add(linears.get(o).forward(attention(h, b, t, in, cache)));
    }

    /** The down projection's input from the gate output {@code g} and the up output: {@code silu(g)·up}. */
    static NDArray swiGlu(NDArray g, Supplier<NDArray> upOutput) {
        return g.mul(Activation.sigmoid(g)).mul(upOutput.get());
    }

    /** Whether gate, up and down split into a frozen part and the rest ({@link LinearLayer#frozenPart()}). */
    boolean mlpSplits() {
        return gateProjection().frozenPart() != null && upProjection().frozenPart() != null
                && downProjection().frozenPart() != null;
    }

    LinearLayer gateProjection() {
        return linears.get(gate);
    }

    LinearLayer upProjection() {
        return linears.get(up);
    }

    LinearLayer downProjection() {
        return linears.get(down);
    }

    private NDArray attention(NDArray h, long b, long t, LlamaModel.LayerInputs in, LlamaKvCache cache) {
        RotaryEmbedding.Tables rq = in.queryRope();
        RotaryEmbedding.Tables rk = in.keyRope();
        NDArray qs = RotaryEmbedding.apply(linears.get(q).forward(h).reshape(b, t, heads, headDim), rq.cos(),
                rq.sinSigned());
        NDArray ks = RotaryEmbedding.apply(linears.get(k).forward(h).reshape(b, t, kvHeads, headDim), rk.cos(),
                rk.sinSigned());
        NDArray vs = linears.get(v).forward(h).reshape(b, t, kvHeads, headDim);
        KeyValues kv = new KeyValues(ks.transpose(0, 2, 1, 3), vs.transpose(0, 2, 1, 3));  // [B, kvHeads, T, D]
        if (cache != null) {
            kv = cache.append(index, kv);
        } else if (in.prefix() != null) {   // prefix tuning in the graph: its keys and values come first
            KeyValues p = in.prefix().forBatch(index, b);
            kv = new KeyValues(p.keys().concat(kv.keys(), 2), p.values().concat(kv.values(), 2));
        }
        return GroupedQueryAttention.attend(qs, kv, in.bias());
    }
}
