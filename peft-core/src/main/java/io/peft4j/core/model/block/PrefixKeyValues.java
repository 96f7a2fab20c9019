package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;

import java.util.Arrays;
import java.util.List;

/**
 * Keys and values that every attention layer sees before the input's own positions: prefix tuning's trainable
 * past (Li &amp; Liang 2021). Layer {@code i}'s keys and values are each {@code [1 or B, kvHeads, P, D]}, already in
 * the form attention reads them (keys are not rotated again). The P prefix positions count as earlier tokens, so
 * the input's positions start at P, as they do in PEFT.
 * <pre>{@code
 * PrefixKeyValues prefix = new PrefixKeyValues(perLayer);            // per layer [1, kvHeads, P, D]
 * NDArray logits = model.forwardEmbeddings(model.embed(ids), mask, null, prefix);   // [B, T, vocab]
 * }</pre>
 *
 * Rows of a mixed batch may carry prefixes of different lengths: they are left-padded to the longest, and
 * {@code mask} says which prefix positions of each row are real (padded keys and values should be zeros).
 *
 * @param layers one {@link KeyValues} per decoder layer, in layer order
 * @param mask   {@code [B][P]}, true where a row's prefix position is real; null when every position is
 *
 * @since 0.1.0
 */
public record PrefixKeyValues(List<KeyValues> layers, boolean[][] mask) {

    public PrefixKeyValues {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a prefix needs the keys and values of at least one layer");
        }
    }

    /** A prefix whose every position is real for every row. */
    public PrefixKeyValues(List<KeyValues> layers) {
        this(layers, null);
    }

    /** {@code [batch][P]}: which prefix positions are real for each row ({@link #mask} or all true). */
    public boolean[][] realPositions(int batch) {
        if (mask != null) {
            return mask;
        }
        boolean[][] all = new boolean[batch][length()];
        for (boolean[] row : all) {
            Arrays.fill(row, true);
        }
        return all;
    }

    /** Prefix positions (P). */
    public int length() {
        return Math.toIntExact(layers.get(0).keys().getShape().get(2));
    }

    /**
     * Checks that there is one entry per layer and that every array is {@code [1 or batch, kvHeads, P, headDim]}.
     *
     * @throws IllegalArgumentException naming the first layer that does not fit
     */
    public void check(int numLayers, int batch, int kvHeads, int headDim) {
        if (layers.size() != numLayers) {
            throw new IllegalArgumentException("a prefix for this model needs " + numLayers + " layers, got "
                    + layers.size());
        }
        int p = length();
        if (mask != null && (mask.length != batch || Arrays.stream(mask).anyMatch(r -> r.length != p))) {
            throw new IllegalArgumentException("a prefix mask must be [" + batch + "][" + p + "]");
        }
        for (int i = 0; i < layers.size(); i++) {
            for (NDArray a : new NDArray[] {layers.get(i).keys(), layers.get(i).values()}) {
                long[] s = a.getShape().getShape();
                boolean fits = s.length == 4 && ((s[0] == 1 && mask == null) || s[0] == batch) && s[1] == kvHeads
                        && s[2] == p && s[3] == headDim;
                if (!fits) {
                    throw new IllegalArgumentException("prefix layer " + i + " must be [1 or " + batch + ", " + kvHeads
                            + ", " + p + ", " + headDim + "], got " + a.getShape());
                }
            }
        }
    }

    /** Layer {@code layer}'s keys and values expanded to {@code batch} rows (a view when already that size). */
    public KeyValues forBatch(int layer, long batch) {
        KeyValues kv = layers.get(layer);
        return new KeyValues(expand(kv.keys(), batch), expand(kv.values(), batch));
    }

    private static NDArray expand(NDArray a, long batch) {
        long[] s = a.getShape().getShape();
        return s[0] == batch ? a : a.broadcast(batch, s[1], s[2], s[3]);
    }
}
