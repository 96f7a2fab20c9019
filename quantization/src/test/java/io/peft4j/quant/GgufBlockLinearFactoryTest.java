package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.peft4j.core.Inference;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.Peft4j;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.core.checkpoint.gguf.GgufTensorSource;
import io.peft4j.core.checkpoint.gguf.GgufTestWriter;
import io.peft4j.core.model.TokenEmbedding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
            // kept as codes + fp32 scales: Q4_1 16 + 2·4 bytes per block, Q8_0 32 + 4, Q4_0 16 + 4
            long q41 = rows * cols / 32 * 24L;
            long q80 = rows * cols / 32 * 36L;
            long q40 = rows * cols / 32 * 20L;
            assertEquals(q41 + q80 + q40, factory.blockBytes());
            assertEquals(3L * rows * cols, factory.blockParameters());
        }
    }

    /**
     * {@code --quantize auto} (the inference commands' default): a GGUF file with Q4/Q8 blocks keeps them, a GGUF of
     * F32 tensors and anything else load as {@code none}.
     */
    @Test
    void linearFactory_auto_keepsBlocksOnlyWhenTheFileHasThem() throws Exception {
        Random rng = new Random(4);
        GgufTestWriter blocks = new GgufTestWriter().kvString("general.architecture", "llama");
        blocks.tensor("blk.0.attn_v.weight", new long[] {64, 16}, GgmlType.Q4_1.id(),
                DecodePathTest.blocks(GgmlType.Q4_1, 16, 64, rng));
        GgufTestWriter dense = new GgufTestWriter().kvString("general.architecture", "llama");
        dense.tensor("blk.0.attn_v.weight", new long[] {64, 16}, GgmlType.F32.id(),
                GgufTestWriter.floatsLe(new float[16 * 64]));
        try (GgufTensorSource withBlocks = GgufTensorSource.open(blocks.write(dir, "blocks.gguf"));
             GgufTensorSource f32 = GgufTensorSource.open(dense.write(dir, "f32.gguf"))) {
            Checkpoint a = Checkpoint.of(withBlocks.path(), "gguf", null, withBlocks, null);
            Checkpoint b = Checkpoint.of(f32.path(), "gguf", null, f32, null);
            assertTrue(QuantizedCheckpoints.linearFactory(a, "auto") instanceof GgufBlockLinearFactory);
            assertTrue(QuantizedCheckpoints.linearFactory(a, "AUTO") instanceof GgufBlockLinearFactory);
            assertEquals(QuantizedCheckpoints.linearFactory(a, "none").getClass(),
                    QuantizedCheckpoints.linearFactory(b, "auto").getClass());
            assertFalse(QuantizedCheckpoints.linearFactory(a, "none") instanceof GgufBlockLinearFactory);
        }
    }

    /**
     * The tied lm_head: from the file's Q8_0 embedding blocks as they are, from an F32 embedding quantized to Q8_0
     * at load (each weight within half a step of its block, |Δ| ≤ max|x| / 254 plus the half rounding of the
     * scale); a decode-sized forward at inference multiplies from the blocks, any other forward by the fp32
     * embedding itself; it stays tied to the embedding (merge/export leave it out) and copies it exactly.
     */
    @Test
    void tiedHead_ggufEmbedding_decodesFromBlocksAndStaysTied() throws Exception {
        Random rng = new Random(5);
        int vocab = 96;
        int hidden = 64;
        float[] f32 = new float[vocab * hidden];
        for (int i = 0; i < f32.length; i++) {
            f32[i] = (float) rng.nextGaussian() * 0.05f;
        }
        for (boolean q8 : new boolean[] {true, false}) {
            GgufTestWriter w = new GgufTestWriter().kvString("general.architecture", "llama");
            w.tensor("token_embd.weight", new long[] {hidden, vocab}, q8 ? GgmlType.Q8_0.id() : GgmlType.F32.id(),
                    q8 ? DecodePathTest.blocks(GgmlType.Q8_0, vocab, hidden, rng) : GgufTestWriter.floatsLe(f32));
            Path file = w.write(dir, "tied-" + q8 + ".gguf");
            GgufBlockLinearFactory factory = new GgufBlockLinearFactory();
            try (GgufTensorSource src = GgufTensorSource.open(file); NDManager m = Peft4j.newManager()) {
                NDArray dense = src.loadWeight("model.embed_tokens.weight", m);
                float[] exact = dense.toFloatArray();
                TokenEmbedding tokens = factory.embedding("model.embed_tokens.weight", src, m);
                // a Q8_0 embedding stays in its blocks: lookups decode rows, no fp32 table until one is asked for
                assertEquals(q8, tokens instanceof BlockTokenEmbedding, tokens.toString());
                assertEquals(!q8, tokens.tableResident());
                NDArray ids = m.create(new long[] {0, 5, 95, 17, 5, 1}, new Shape(2, 3));
                assertArrayEquals(dense.get(ids).toFloatArray(), tokens.lookup(ids).toFloatArray());
                assertArrayEquals(dense.get(ids).toFloatArray(), tokens.lookup(ids.toType(DataType.INT32, false))
                        .toFloatArray());
                assertEquals(new Shape(2, 3, hidden), tokens.lookup(ids).getShape());
                assertThrows(RuntimeException.class, () -> tokens.lookup(m.create(new long[] {vocab})), "out of range");
                LinearLayer head = factory.tiedHead("lm_head", "model.embed_tokens.weight", src, tokens, m);
                assertTrue(head instanceof TiedBlockHead, head.toString());
                assertEquals(GgmlType.Q8_0, ((TiedBlockHead) head).type());
                assertEquals(!q8, tokens.tableResident(), "building the head needs no table for a Q8_0 file");
                assertEquals(vocab * hidden / 32 * 36L, head.storedBytes());
                assertEquals(head.storedBytes(), factory.blockBytes(), "the blocks are counted once");
                NDArray embedding = tokens.table();
                assertArrayEquals(exact, embedding.toFloatArray(), "the table equals the file's dense load");
                assertTrue(head.tiedTo(embedding));
                assertArrayEquals(exact, head.denseWeight(m).toFloatArray());

                NDArray x = m.create(gaussianRow(rng, 2 * hidden), new Shape(2, hidden));
                float[] reference = Linear.linear(x, embedding, null).singletonOrThrow().toFloatArray();
                assertArrayEquals(reference, head.forward(x).toFloatArray(), "outside inference: the fp32 embedding");
                long calls = DecodeKernels.calls();
                float[] decoded;
                try (Inference.Scope s = Inference.enter()) {
                    decoded = head.forward(x).toFloatArray();
                }
                assertEquals(calls + 1, DecodeKernels.calls(), "the decode path ran");
                // the file's blocks are the embedding exactly: only the summation order differs; quantized at load:
                // each weight moves by at most max|row block| / 254 (+ the half rounding of the scale)
                for (int r = 0; r < 2; r++) {
                    for (int o = 0; o < vocab; o++) {
                        float bound = 1e-5f * absDot(exact, o, x.toFloatArray(), r, hidden) + 1e-6f;
                        if (!q8) {
                            float maxAbs = 0f;
                            for (int k = 0; k < hidden; k++) {
                                maxAbs = Math.max(maxAbs, Math.abs(exact[o * hidden + k]));
                            }
                            bound += maxAbs / 254f * 1.002f * absSum(x.toFloatArray(), r, hidden);
                        }
                        assertEquals(reference[r * vocab + o], decoded[r * vocab + o], bound, q8 + " row " + r
                                + " feature " + o);
                    }
                }
                head.close();
                assertTrue(embedding.toFloatArray().length == exact.length, "the embedding is not closed by the head");
            }
        }
    }

    private static float[] gaussianRow(Random rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    private static float absDot(float[] w, int o, float[] x, int r, int n) {
        float s = 0f;
        for (int k = 0; k < n; k++) {
            s += Math.abs(w[o * n + k] * x[r * n + k]);
        }
        return s;
    }

    private static float absSum(float[] x, int r, int n) {
        float s = 0f;
        for (int k = 0; k < n; k++) {
            s += Math.abs(x[r * n + k]);
        }
        return s;
    }
}
