package io.peft4j.core.adapter.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.model.VirtualTokens;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.block.AttentionLayout;
import io.peft4j.core.model.block.KeyValues;
import io.peft4j.core.model.block.PrefixKeyValues;

import java.util.ArrayList;
import java.util.List;

/**
 * The start of a mixed batch whose rows carry different soft prompts (or none): each row's virtual input rows are
 * left-padded to the longest in the batch and placed before its embeddings, its attention prefix likewise before the
 * keys and values of every layer; padding is masked (and zero), so positions and attention of every row are those
 * it has alone. Returns the logits of the caller's positions only. Stateless.
 */
public final class MixedVirtualTokens {
    private MixedVirtualTokens() {
    }

    /**
     * @param embeddings {@code [B, T, hidden]}
     * @param mask       {@code [B, T]} or null
     * @param perRow     each row's virtual tokens, null for a row without
     * @return logits {@code [B, T, vocab]}
     */
    public static NDArray forward(CausalLM base, NDArray embeddings, NDArray mask, KvCache cache,
                                  List<VirtualTokens> perRow) {
        NDManager m = embeddings.getManager();
        int b = Math.toIntExact(embeddings.getShape().get(0));
        int t = Math.toIntExact(embeddings.getShape().get(1));
        int inputP = 0;
        int prefixP = 0;
        for (VirtualTokens v : perRow) {
            if (v != null && v.inputEmbeddings() != null) {
                inputP = Math.max(inputP, rowsOf(v));
            } else if (v != null) {
                prefixP = Math.max(prefixP, v.attentionPrefix().length());
            }
        }
        NDArray input = embeddings;
        NDArray fullMask = mask;
        if (inputP > 0) {
            boolean[][] given = AttentionLayout.readMask(mask, b, t);
            float[] maskValues = new float[b * (inputP + t)];
            NDList rows = new NDList();
            for (int r = 0; r < b; r++) {
                VirtualTokens v = perRow.get(r);
                int p = v != null && v.inputEmbeddings() != null ? rowsOf(v) : 0;
                NDList parts = new NDList();
                if (p < inputP) {
                    parts.add(m.zeros(new Shape(inputP - p, embeddings.getShape().get(2))));
                }
                if (p > 0) {
                    parts.add(v.inputEmbeddings());
                }
                parts.add(embeddings.get(r));
                rows.add(attached(NDArrays.concat(parts, 0), m));
                for (int j = 0; j < inputP + t; j++) {
                    boolean real = j < inputP ? j >= inputP - p : given == null || given[r][j - inputP];
                    maskValues[r * (inputP + t) + j] = real ? 1f : 0f;
                }
            }
            input = attached(NDArrays.stack(rows), m);
            fullMask = m.create(maskValues, new Shape(b, inputP + t));
        }
        PrefixKeyValues prefix = prefixP == 0 ? null : prefix(base.config(), perRow, prefixP, m);
        NDArray logits = base.forwardEmbeddings(input, fullMask, cache, prefix);
        return inputP == 0 ? logits : logits.get(new NDIndex(":, " + inputP + ":, :"));
    }

    private static int rowsOf(VirtualTokens v) {
        return Math.toIntExact(v.inputEmbeddings().getShape().get(0));
    }

    /** Every row's prefix left-padded with zeros to {@code length}, and the mask of real positions. */
    private static PrefixKeyValues prefix(ModelConfig config, List<VirtualTokens> perRow, int length, NDManager m) {
        int b = perRow.size();
        boolean[][] real = new boolean[b][length];
        Shape padShape = new Shape(1, config.numKvHeads(), 0, config.headDim());
        List<KeyValues> layers = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            NDList keys = new NDList();
            NDList values = new NDList();
            for (int r = 0; r < b; r++) {
                VirtualTokens v = perRow.get(r);
                PrefixKeyValues own = v == null ? null : v.attentionPrefix();
                int p = own == null ? 0 : own.length();
                if (l == 0) {
                    for (int j = length - p; j < length; j++) {
                        real[r][j] = true;
                    }
                }
                keys.add(padded(own == null ? null : own.layers().get(l).keys(), p, length, padShape, m));
                values.add(padded(own == null ? null : own.layers().get(l).values(), p, length, padShape, m));
            }
            layers.add(new KeyValues(attached(NDArrays.concat(keys, 0), m), attached(NDArrays.concat(values, 0), m)));
        }
        return new PrefixKeyValues(layers, real);
    }

    private static NDArray padded(NDArray own, int p, int length, Shape padShape, NDManager m) {
        if (p == length) {
            return own;
        }
        NDArray pad = m.zeros(new Shape(1, padShape.get(1), length - p, padShape.get(3)));
        return own == null ? pad : attached(pad.concat(own, 2), m);
    }

    private static NDArray attached(NDArray a, NDManager m) {
        a.attach(m);
        return a;
    }
}
