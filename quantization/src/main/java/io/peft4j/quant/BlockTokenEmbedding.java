package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.model.TokenEmbedding;
import io.peft4j.quant.internal.kernel.QuantMatrix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A token embedding kept in a GGUF file's Q4_0 / Q4_1 / Q8_0 blocks, the same blocks the tied lm_head decodes from
 * ({@link TiedBlockHead}): a lookup decodes just the requested rows, each value as ggml's reference dequantization
 * gives it (the values a dense load of the file holds), and the fp32 table is built only when something asks for it
 * (training a copy, merging, full-sequence logits) and then kept. Generation alone never holds it: 113 MB less for
 * SmolLM2-135M. Thread-safe.
 */
final class BlockTokenEmbedding implements TokenEmbedding {
    private final String name;
    private final QuantMatrix.Ggml blocks; // [vocab, hidden]
    private final NDManager owner;         // the model's: holds the table once built
    private volatile NDArray table;

    BlockTokenEmbedding(String name, QuantMatrix.Ggml blocks, NDManager owner) {
        this.name = name;
        this.blocks = blocks;
        this.owner = owner;
    }

    /** The blocks, shared with the tied head. */
    QuantMatrix.Ggml blocks() {
        return blocks;
    }

    @Override
    public NDArray lookup(NDArray ids) {
        long[] idx = ids.getDataType() == DataType.INT64 ? ids.toLongArray()
                : ids.getDataType() == DataType.INT32 ? toLongs(ids.toIntArray()) : null;
        if (idx == null) {
            throw new IllegalArgumentException("token ids must be int32 or int64, got " + ids.getDataType());
        }
        int hidden = blocks.cols();
        float[] rows = new float[Math.multiplyExact(idx.length, hidden)];
        for (int k = 0; k < idx.length; k++) {
            if (idx[k] < 0 || idx[k] >= blocks.rows()) {
                throw new IllegalArgumentException("token id " + idx[k] + " is outside the vocabulary [0, "
                        + blocks.rows() + ") of " + name);
            }
            blocks.decodeRow((int) idx[k], rows, k * hidden);
        }
        long[] shape = ids.getShape().add(hidden).getShape();
        return ids.getManager().create(rows, new Shape(shape));
    }

    @Override
    public NDArray table() {
        NDArray t = table;
        if (t == null) {
            synchronized (this) {
                t = table;
                if (t == null) {
                    int n = Math.multiplyExact(blocks.rows(), blocks.cols());
                    ByteBuffer bb = ByteBuffer.allocateDirect(Math.multiplyExact(n, Float.BYTES))
                            .order(ByteOrder.LITTLE_ENDIAN);
                    blocks.decodeAll(bb.asFloatBuffer());
                    t = owner.create(bb, new Shape(blocks.rows(), blocks.cols()), DataType.FLOAT32);
                    t.setName(name);
                    table = t;
                }
            }
        }
        return t;
    }

    @Override
    public boolean tableResident() {
        return table != null;
    }

    @Override
    public long vocabSize() {
        return blocks.rows();
    }

    @Override
    public long hiddenSize() {
        return blocks.cols();
    }

    private static long[] toLongs(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
