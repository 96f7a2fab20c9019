package io.peft4j.core.model.block;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packed (block-diagonal) layout, and that a 0/1 mask gives exactly the unpacked layout. */
class AttentionLayoutTest {
    static final float M = AttentionLayout.MASKED;

    @Test
    void packed_twoSequences_blockDiagonalCausalBiasAndRestartingPositions() {
        try (NDManager m = Peft4j.newManager()) {
            AttentionLayout l = AttentionLayout.packed(new int[][] {{1, 1, 2, 2, 0}}, null);
            assertArrayEquals(new int[] {0, 1, 0, 1, 0}, l.positions()[0]);
            float[] bias = l.bias(m).toFloatArray();
            assertArrayEquals(new float[] {
                0, M, M, M, M,
                0, 0, M, M, M,
                M, M, 0, M, M,     // first token of sequence 2 sees only itself
                M, M, 0, 0, M,
                0, 0, 0, 0, M}, bias);  // padding query: every earlier real key (no all-masked row)
        }
    }

    @Test
    void packed_zeroOneMask_sameBiasAsUnpackedLayout() {
        boolean[][] mask = {{true, true, true, false}, {true, true, true, true}};
        int[][] seq = {{1, 1, 1, 0}, {1, 1, 1, 1}};
        try (NDManager m = Peft4j.newManager()) {
            AttentionLayout unpacked = new AttentionLayout(new boolean[2][0], 0, mask, 2, 4);
            AttentionLayout packed = AttentionLayout.packed(seq, null);
            assertArrayEquals(unpacked.bias(m).toFloatArray(), packed.bias(m).toFloatArray());
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < 4; t++) {
                    if (mask[b][t]) {
                        assertEquals(unpacked.positions()[b][t], packed.positions()[b][t]);
                    }
                }
            }
        }
        assertFalse(AttentionLayout.isPacked(seq));
        assertTrue(AttentionLayout.isPacked(new int[][] {{1, 2}}));
    }
}
