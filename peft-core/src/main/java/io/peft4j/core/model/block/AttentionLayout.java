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
 * <p>
 * Packed rows ({@link #packed}, training only, no cache) hold several sequences: the mask gives each token's
 * 1-based sequence number (0 = padding), a token attends only to earlier tokens of its own sequence (a
 * block-diagonal causal bias) and positions restart at 0 for every sequence. A mask of only 0/1 gives exactly
 * the unpacked layout.
 * <pre>{@code
 * AttentionLayout l = AttentionLayout.packed(new int[][] {{1, 1, 2, 2, 0}}, null);
 * int[][] pos = l.positions();          // {{0, 1, 0, 1, 0}}
 * NDArray bias = l.bias(manager);       // [1, 1, 1, 5, 5]
 * }</pre>
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
    private final int[][] sequences;     // [B][T] 1-based sequence numbers of packed rows, or null

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
        this.sequences = null;
    }

    private AttentionLayout(int[][] sequences, int[][] positions) {
        this.batch = sequences.length;
        this.newTokens = batch == 0 ? 0 : sequences[0].length;
        this.pastLength = 0;
        this.keyMask = new boolean[batch][newTokens];
        this.positions = positions;
        this.sequences = sequences;
        this.anyPadding = true;   // one bias row per batch row: the blocks differ between rows
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < newTokens; t++) {
                keyMask[b][t] = sequences[b][t] != 0;
            }
        }
    }

    /**
     * The layout of packed rows without a cache.
     *
     * @param sequenceIds {@code [B][T]} 1-based sequence number of each token, 0 for padding
     * @param positionIds {@code [B][T]} rope positions, or {@code null} for the index within each sequence
     */
    public static AttentionLayout packed(int[][] sequenceIds, int[][] positionIds) {
        int[][] pos = positionIds;
        if (pos == null) {
            pos = new int[sequenceIds.length][];
            for (int b = 0; b < sequenceIds.length; b++) {
                int[] row = sequenceIds[b];
                pos[b] = new int[row.length];
                for (int t = 1; t < row.length; t++) {
                    pos[b][t] = row[t] != 0 && row[t] == row[t - 1] ? pos[b][t - 1] + 1 : 0;
                }
            }
        }
        return new AttentionLayout(sequenceIds, pos);
    }

    /** Whether any mask value of {@code sequenceIds} is above 1 (several sequences share a row). */
    public static boolean isPacked(int[][] sequenceIds) {
        for (int[] row : sequenceIds) {
            for (int s : row) {
                if (s > 1) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Reads a {@code [B, T]} integer array of any numeric type (sequence numbers, position ids). */
    public static int[][] readInts(NDArray values, int batch, int tokens, String what) {
        if (!values.getShape().equals(new Shape(batch, tokens))) {
            throw new IllegalArgumentException(what + " must be [" + batch + ", " + tokens + "], got "
                    + values.getShape());
        }
        long[] v = values.toType(DataType.INT64, false).toLongArray();
        int[][] out = new int[batch][tokens];
        for (int i = 0; i < v.length; i++) {
            out[i / tokens][i % tokens] = Math.toIntExact(v[i]);
        }
        return out;
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
                    boolean visible = j <= lastVisible && keyMask[b][j] && sameSequence(b, i, j);
                    bias[base + j] = visible ? 0f : MASKED;
                }
            }
        }
        return manager.create(bias, new Shape(rows, 1, 1, newTokens, keys));
    }

    /** Packed rows: key {@code j} is in query {@code i}'s sequence (a padding query sees every real key). */
    private boolean sameSequence(int b, int i, int j) {
        return sequences == null || sequences[b][i] == 0 || sequences[b][i] == sequences[b][j];
    }
}
