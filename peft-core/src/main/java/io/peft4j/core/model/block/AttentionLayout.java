package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Positions and the additive attention bias of one forward call, from the padding mask of the new tokens and
 * the mask of what the cache already holds. Positions follow transformers for left padding: the running count
 * of real tokens minus one, and 1 on padding. The bias is 0 where a query may attend and fp32's lowest value
 * elsewhere (causal order and padded keys), as transformers' eager attention adds it.
 *
 * @since 0.1.0
 */
public final class AttentionLayout {
    /** The additive bias of a masked key (fp32's lowest value, as transformers' eager attention). */
    public static final float MASKED = -Float.MAX_VALUE;

    private final int batch;
    private final int newTokens;
    private final int pastLength;
    private final boolean[][] keyMask;   // [B][past + T], true = real token
    private final boolean anyPadding;
    private final int[][] positions;     // [B][T]

    /**
     * @param pastMask   {@code [B][P]} mask of cached keys (P may be 0)
     * @param newMask    {@code [B][T]} mask of the new tokens, or {@code null} for no padding
     */
    public AttentionLayout(boolean[][] pastMask, int pastLength, boolean[][] newMask, int batch, int newTokens) {
        this.batch = batch;
        this.newTokens = newTokens;
        this.pastLength = pastLength;
        this.keyMask = new boolean[batch][pastLength + newTokens];
        this.positions = new int[batch][newTokens];
        boolean padding = false;
        for (int b = 0; b < batch; b++) {
            int real = 0;
            for (int j = 0; j < pastLength; j++) {
                keyMask[b][j] = pastMask[b][j];
                real += pastMask[b][j] ? 1 : 0;
            }
            for (int t = 0; t < newTokens; t++) {
                boolean on = newMask == null || newMask[b][t];
                keyMask[b][pastLength + t] = on;
                real += on ? 1 : 0;
                positions[b][t] = on ? real - 1 : 1;
            }
            padding |= real != pastLength + newTokens;
        }
        this.anyPadding = padding;
    }

    /** Reads a {@code [B, T]} 0/1 mask of any numeric type; {@code null} stays {@code null}. */
    public static boolean[][] readMask(NDArray mask, int batch, int tokens) {
        if (mask == null) {
            return null;
        }
        if (!mask.getShape().equals(new Shape(batch, tokens))) {
            throw new IllegalArgumentException("attentionMask must be [" + batch + ", " + tokens + "], got "
                    + mask.getShape());
        }
        float[] v = mask.toType(DataType.FLOAT32, false).toFloatArray();
        boolean[][] out = new boolean[batch][tokens];
        for (int i = 0; i < v.length; i++) {
            out[i / tokens][i % tokens] = v[i] != 0f;
        }
        return out;
    }

    /** Position ids {@code [B][T]} of the new tokens. */
    public int[][] positions() {
        return positions;
    }

    /** Mask of every key after this call ({@code [B][past + T]}). */
    public boolean[][] keyMask() {
        return keyMask;
    }

    /**
     * The bias {@code [B or 1, 1, 1, T, past + T]} (broadcast over kv heads and query groups), or {@code null}
     * when nothing needs masking (one new token and no padding).
     */
    public NDArray bias(NDManager manager) {
        int keys = pastLength + newTokens;
        if (!anyPadding && newTokens == 1) {
            return null;
        }
        int rows = anyPadding ? batch : 1;
        float[] bias = new float[rows * newTokens * keys];
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < newTokens; i++) {
                int base = (b * newTokens + i) * keys;
                int lastVisible = pastLength + i;
                for (int j = 0; j < keys; j++) {
                    boolean visible = j <= lastVisible && keyMask[b][j];
                    bias[base + j] = visible ? 0f : MASKED;
                }
            }
        }
        return manager.create(bias, new Shape(rows, 1, 1, newTokens, keys));
    }
}
