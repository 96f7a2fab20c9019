package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CausalLmLossTest {

    @Test
    void sum_shiftsLabels_andSkipsIgnored() {
        try (NDManager m = Peft4j.newManager()) {
            // B=1, T=3, V=3; position t predicts labels[t+1]; labels[1] is ignored, so only position 1 -> label 2
            float[] logits = {1, 2, 3, 0, 0, 5, 9, 9, 9};
            NDArray l = m.create(logits, new Shape(1, 3, 3));
            int[][] labels = {{0, Example.IGNORE, 2}};
            double want = -(5 - Math.log(Math.exp(0) + Math.exp(0) + Math.exp(5)));
            assertEquals(want, CausalLmLoss.sum(l, labels, m).getFloat(), 1e-5);
            assertEquals(1, CausalLmLoss.count(labels));
            int[][] both = {{0, 1, 2}};
            double first = -(2 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
            assertEquals(first + want, CausalLmLoss.sum(l, both, m).getFloat(), 1e-5);
        }
    }

    @Test
    void collate_rightPadsWithMaskAndIgnoredLabels() {
        Batches.Batch b = Batches.collate(List.of(Example.unmasked(new int[] {5, 6, 7}),
                new Example(new int[] {8, 9}, new int[] {Example.IGNORE, 9})), 0);
        assertEquals(3, b.cols());
        assertTrue(b.padded());
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, 0}, b.ids());
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 0}, b.mask());
        assertArrayEquals(new int[] {Example.IGNORE, 9, Example.IGNORE}, b.labels()[1]);
        assertEquals(5, b.realTokens());
        assertFalse(Batches.collate(List.of(Example.unmasked(new int[] {1, 2})), 0).padded());
    }

    @Test
    void batches_sameSeedSameOrder_andEpochsReshuffle() {
        List<Example> ex = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ex.add(Example.unmasked(new int[] {i, i + 1}));
        }
        Batches a = new Batches(ex, 2, 7, true, 0);
        Batches b = new Batches(ex, 2, 7, true, 0);
        assertEquals(5, a.perEpoch());
        for (int k = 0; k < 12; k++) {
            assertArrayEquals(a.get(k).ids(), b.get(k).ids());
        }
        java.util.Set<Long> firstEpoch = new java.util.HashSet<>();
        for (int k = 0; k < 5; k++) {
            for (int r = 0; r < 2; r++) {
                firstEpoch.add(a.get(k).ids()[r * 2]);
            }
        }
        assertEquals(10, firstEpoch.size(), "an epoch visits every example once");
    }
}
