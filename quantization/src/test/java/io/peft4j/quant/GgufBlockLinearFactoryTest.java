package io.peft4j.quant;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Peft4j;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.core.checkpoint.gguf.GgufTensorSource;
import io.peft4j.core.checkpoint.gguf.GgufTestWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GgufBlockLinearFactory} keeps Q4_0/Q4_1/Q8_0 projections as their blocks, with LLaMA q/k rows un-permuted
 * so the weight equals what {@link GgufTensorSource} decodes to fp32 bit for bit, and leaves other types dense.
 */
class GgufBlockLinearFactoryTest {
    @TempDir
    Path dir;

    @Test
    void create_blockProjections_equalSourceDequantizationIncludingQkPermutation() throws Exception {
        Random rng = new Random(3);
        int rows = 16;
        int cols = 64;
        GgufTestWriter w = new GgufTestWriter().kvString("general.architecture", "llama")
                .kvU32("llama.attention.head_count", 2).kvU32("llama.attention.head_count_kv", 1);
        w.tensor("blk.0.attn_q.weight", new long[] {cols, rows}, GgmlType.Q4_1.id(),
                DecodePathTest.blocks(GgmlType.Q4_1, rows, cols, rng));
        w.tensor("blk.0.attn_k.weight", new long[] {cols, rows}, GgmlType.Q8_0.id(),
                DecodePathTest.blocks(GgmlType.Q8_0, rows, cols, rng));
        w.tensor("blk.0.attn_v.weight", new long[] {cols, rows}, GgmlType.Q4_0.id(),
                DecodePathTest.blocks(GgmlType.Q4_0, rows, cols, rng));
        w.tensor("blk.0.attn_output.weight", new long[] {cols, rows}, GgmlType.F32.id(),
                GgufTestWriter.floatsLe(new float[rows * cols]));
        Path file = w.write(dir, "tiny.gguf");
        GgufBlockLinearFactory factory = new GgufBlockLinearFactory();
        try (GgufTensorSource src = GgufTensorSource.open(file); NDManager m = Peft4j.newManager()) {
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj"}) {
                String path = "model.layers.0.self_attn." + proj;
                try (LinearLayer layer = factory.create(path, src, m)) {
                    assertTrue(layer instanceof GgmlBlockLinear, proj);
                    assertArrayEquals(src.readFloats(path + ".weight"), layer.denseWeight(m).toFloatArray(), proj);
                }
            }
            try (LinearLayer dense = factory.create("model.layers.0.self_attn.o_proj", src, m)) {
                assertTrue(dense instanceof DenseLinear);
            }
            long q41 = rows * cols / 32 * 20L;
            long q80 = rows * cols / 32 * 34L;
            long q40 = rows * cols / 32 * 18L;
            assertEquals(q41 + q80 + q40, factory.blockBytes());
            assertEquals(3L * rows * cols, factory.blockParameters());
        }
    }
}
