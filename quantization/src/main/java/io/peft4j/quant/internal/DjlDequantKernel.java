package io.peft4j.quant.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Dequantization with DJL (libtorch) ops only, for when the codes already live in native memory. DJL has no shift or
 * bitwise ops, so 4-bit codes are expanded with a {@code [256, 2]} table gathered by the packed uint8 byte
 * ({@code L2.get(P)}: row b holds {@code code[b >> 4], code[b & 15]}); 8-bit codes gather the 256-entry map directly.
 * Then {@code *= absmax} per block, in place on the gathered array. Every product is the same fp32 multiplication as the Java reference, so the result
 * is bit-identical to {@link io.peft4j.quant.Quantizer#dequantize}.
 */
public final class DjlDequantKernel {
    private DjlDequantKernel() {
    }

    /** The {@code [256, 2]} (4-bit) or {@code [256]} (8-bit) lookup table for {@code type} on {@code manager}. */
    public static NDArray lookupTable(QuantType type, NDManager manager) {
        float[] code = type.codebook();
        if (type.bits() == 8) {
            return manager.create(code);
        }
        float[] l2 = new float[512];
        for (int b = 0; b < 256; b++) {
            l2[2 * b] = code[b >>> 4];
            l2[2 * b + 1] = code[b & 0x0F];
        }
        return manager.create(l2, new Shape(256, 2));
    }

    /** Packed codes as a uint8 array on {@code manager} (a native copy of {@code q.data()}). */
    public static NDArray packedCodes(QuantizedTensor q, NDManager manager) {
        ByteBuffer bb = ByteBuffer.allocateDirect(q.data().length).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(q.data()).flip();
        return manager.create(bb, new Shape(q.data().length), DataType.UINT8);
    }

    /**
     * {@code [shape]} fp32 on {@code codes}' manager.
     *
     * @param codes  uint8 {@code [bytes]} from {@link #packedCodes}
     * @param table  from {@link #lookupTable}
     * @param absmax fp32 {@code [blocks]} (decoded)
     */
    public static NDArray dequantize(QuantizedTensor q, NDArray codes, NDArray table, NDArray absmax) {
        int n = q.numel();
        int bs = q.config().blockSize();
        NDArray flat = table.get(codes).reshape(-1);           // [2 * bytes] or [n]
        if (flat.size() != n) {
            flat = flat.get(new NDIndex("0:{}", n));           // drop the odd-count padding nibble
        }
        int full = n - n % bs;
        NDArray out;
        if (full == n) {
            // in place on the fresh gather result: one fp32 allocation per call, not two
            out = flat.reshape(n / bs, bs).muli(absmax.reshape(n / bs, 1));
        } else {
            int blocks = full / bs;
            NDArray head = flat.get(new NDIndex("0:{}", full)).reshape(Math.max(blocks, 0), bs)
                    .muli(absmax.get(new NDIndex("0:{}", blocks)).reshape(blocks, 1)).reshape(-1);
            NDArray tail = flat.get(new NDIndex("{}:", full)).muli(absmax.get(blocks));
            out = head.concat(tail);
        }
        return out.reshape(new Shape(q.shape()));
    }
}
