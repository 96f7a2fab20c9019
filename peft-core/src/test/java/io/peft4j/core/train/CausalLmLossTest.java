package io.peft4j.core.train;

import io.peft4j.core.train.internal.BatchOrder;
import io.peft4j.core.train.internal.CausalLmLoss;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loss targets (shift, ignore, packed boundaries), collation into {@link TrainingBatch}, batch order. */
class CausalLmLossTest {

    @Test
    void sum_shiftsLabels_andSkipsIgnored() {
        try (NDManager m = Peft4j.newManager()) {
            // B=1, T=3, V=3; position t predicts labels[t+1]; labels[1] is ignored, so only position 1 -> label 2
            float[] logits = {1, 2, 3, 0, 0, 5, 9, 9, 9};
            NDArray l = m.create(logits, new Shape(1, 3, 3));
            TrainingBatch labels = batch(new Example(new int[] {0, 1, 2}, new int[] {0, Example.IGNORE, 2}));
            double want = -(5 - Math.log(Math.exp(0) + Math.exp(0) + Math.exp(5)));
            assertEquals(want, CausalLmLoss.sum(l, labels, m).getFloat(), 1e-5);
            assertEquals(1, labels.trainedTokens());
            TrainingBatch both = batch(Example.unmasked(new int[] {0, 1, 2}));
            double first = -(2 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
            assertEquals(first + want, CausalLmLoss.sum(l, both, m).getFloat(), 1e-5);
            // packed: token 2 starts sequence 2, so position 1 is not trained to predict it whatever its label
            TrainingBatch packed = batch(new Example(new int[] {0, 1, 2}, new int[] {0, 1, 2}, new int[] {1, 1, 2},
                    new int[] {0, 1, 0}));
            assertEquals(first, CausalLmLoss.sum(l, packed, m).getFloat(), 1e-5);
            assertEquals(1, packed.trainedTokens());
        }
    }

    private static TrainingBatch batch(Example e) {
        return TrainingBatch.of(List.of(e), 0, 1);
    }

    @Test
    void collate_rightPadsWithMaskAndIgnoredLabels() {
        TrainingBatch b = TrainingBatch.of(List.of(Example.unmasked(new int[] {5, 6, 7}),
                new Example(new int[] {8, 9}, new int[] {Example.IGNORE, 9})), 0, 1);
        assertEquals(3, b.seqLen());
        assertTrue(b.isPadded());
        assertFalse(b.isPacked());
        assertArrayEquals(new int[] {8, 9, 0}, b.inputIds()[1]);
        assertArrayEquals(new int[] {1, 1, 0}, b.attentionMask()[1]);
        assertArrayEquals(new int[] {0, 1, 0}, b.positionIds()[1]);
        assertArrayEquals(new int[] {Example.IGNORE, 9, Example.IGNORE}, b.labels()[1]);
        assertEquals(5, b.realTokens());
        assertFalse(batch(Example.unmasked(new int[] {1, 2})).isPadded());
        try (NDManager m = Peft4j.newManager()) {
            assertNull(batch(Example.unmasked(new int[] {1, 2})).attentionMaskArray(m), "no padding, no mask");
            assertNull(b.positionIdsArray(m), "unpacked: the model derives positions as before");
        }
    }

    @Test
    void collate_padToMultipleOf_roundsUp() {
        TrainingBatch b = TrainingBatch.of(List.of(Example.unmasked(new int[] {1, 2, 3})), 2, 4);
        assertEquals(4, b.seqLen());
        assertArrayEquals(new int[] {1, 2, 3, 2}, b.inputIds()[0]);
    }

    @Test
    void batches_sameSeedSameOrder_andEpochsReshuffle() {
        List<Example> ex = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ex.add(Example.unmasked(new int[] {i, i + 1}));
        }
        BatchOrder a = new BatchOrder(ex, 2, 7, true, 0);
        BatchOrder b = new BatchOrder(ex, 2, 7, true, 0);
        assertEquals(5, a.perEpoch());
        for (int k = 0; k < 12; k++) {
            assertArrayEquals(a.get(k).inputIds(), b.get(k).inputIds());
        }
        java.util.Set<Integer> firstEpoch = new java.util.HashSet<>();
        for (int k = 0; k < 5; k++) {
            for (int r = 0; r < 2; r++) {
                firstEpoch.add(a.get(k).inputIds()[r][0]);
            }
        }
        assertEquals(10, firstEpoch.size(), "an epoch visits every example once");
    }
}
