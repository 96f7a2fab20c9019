package io.peft4j.datasets;

import io.peft4j.core.train.TrainingBatch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Packing (block-diagonal masks, restarting positions), dynamic padding, length grouping, seeded split. */
class PackingTest {

    /** An example of {@code n} tokens with ids base..base+n-1, first half untrained. */
    static TrainingExample ex(int base, int n) {
        int[] ids = new int[n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = base + i;
            labels[i] = i < n / 2 ? TrainingExample.IGNORE : ids[i];
        }
        return TrainingExample.of(ids, labels);
    }

    @Test
    void pack_threeExamples_firstFitWithRestartingPositionsAndSegmentMask() {
        List<TrainingExample> rows = Packing.pack(List.of(ex(100, 4), ex(200, 5), ex(300, 3)), 8, 0);
        assertEquals(2, rows.size());
        TrainingExample r0 = rows.get(0);
        assertArrayEquals(new int[] {100, 101, 102, 103, 300, 301, 302, 0}, r0.inputIds());
        assertArrayEquals(new int[] {1, 1, 1, 1, 2, 2, 2, 0}, r0.attentionMask());
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 0}, r0.positionIds());
        assertArrayEquals(new int[] {-100, -100, 102, 103, -100, 301, 302, -100}, r0.labels());
        assertEquals(List.of(0, 4), r0.sequenceStarts());
        assertTrue(r0.attends(3, 0));
        assertFalse(r0.attends(4, 3), "no attention across packed sequences");
        assertFalse(r0.attends(2, 3), "causal");
        assertFalse(r0.attends(7, 7), "padding attends nothing");
        assertArrayEquals(new int[] {200, 201, 202, 203, 204, 0, 0, 0}, rows.get(1).inputIds());
    }

    @Test
    void pack_firstLabelOfEachSequence_isIgnored() {
        TrainingExample allTrained = TrainingExample.of(new int[] {5, 6, 7}, new int[] {5, 6, 7});
        TrainingExample row = Packing.pack(List.of(allTrained, allTrained), 6, 0).get(0);
        assertArrayEquals(new int[] {-100, 6, 7, -100, 6, 7}, row.labels());
    }

    @Test
    void pack_tooLong_namesTheExample() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Packing.pack(List.of(ex(1, 3), ex(1, 9)), 8, 0));
        assertTrue(e.getMessage().startsWith("example 1 has 9 tokens"), e.getMessage());
    }

    @Test
    void collate_dynamicPadding_padsToLongestRoundedUp() {
        TrainingBatch b = Batching.collate(List.of(ex(10, 3), ex(20, 5)), 2, 4);
        assertEquals(8, b.seqLen());
        assertArrayEquals(new int[] {10, 11, 12, 2, 2, 2, 2, 2}, b.inputIds()[0]);
        assertArrayEquals(new int[] {-100, 11, 12, -100, -100, -100, -100, -100}, b.labels()[0]);
        assertArrayEquals(new int[] {1, 1, 1, 0, 0, 0, 0, 0}, b.attentionMask()[0]);
        assertEquals(5, Batching.collate(List.of(ex(10, 3), ex(20, 5)), 2, 1).seqLen());
    }

    @Test
    void collate_packedRows_keepSequenceNumbersAndPositions() {
        List<TrainingExample> rows = Packing.pack(List.of(ex(100, 4), ex(200, 5), ex(300, 3)), 8, 0);
        TrainingBatch b = Batching.collate(rows, 0, 1);
        assertTrue(b.isPacked());
        assertArrayEquals(new int[] {1, 1, 1, 1, 2, 2, 2, 0}, b.attentionMask()[0]);
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 0}, b.positionIds()[0]);
        assertEquals(rows.stream().mapToInt(TrainingExample::trainedTokens).sum(), b.trainedTokens());
        assertEquals(12, b.realTokens());
        assertTrue(rows.get(0).forTrainer().isPacked());
    }

    @Test
    void lengthGrouped_sameSeed_sameBatchesOfSimilarLength() {
        List<TrainingExample> data = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            data.add(ex(i, 1 + (i * 37) % 200));
        }
        List<List<TrainingExample>> a = Batching.lengthGrouped(data, 8, 7);
        List<List<TrainingExample>> b = Batching.lengthGrouped(data, 8, 7);
        assertEquals(a, b);
        assertEquals(125, a.size());
        assertEquals(1000, a.stream().mapToInt(List::size).sum());
        assertEquals(1000, a.stream().flatMap(List::stream).collect(Collectors.toSet()).size());
        long groupedPad = padding(a);
        long randomPad = padding(Batching.sequential(Split.shuffled(data, 7), 8));
        assertTrue(groupedPad * 5 < randomPad, "grouped " + groupedPad + " vs random " + randomPad);
        assertNotEquals(a, Batching.lengthGrouped(data, 8, 8));
    }

    private static long padding(List<List<TrainingExample>> batches) {
        long pad = 0;
        for (List<TrainingExample> batch : batches) {
            int max = batch.stream().mapToInt(TrainingExample::length).max().orElse(0);
            pad += batch.stream().mapToInt(e -> max - e.length()).sum();
        }
        return pad;
    }

    @Test
    void split_seeded_isDeterministicDisjointAndComplete() {
        List<Integer> items = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            items.add(i);
        }
        Split<Integer> s = Split.of(items, 0.1, 42);
        assertEquals(s, Split.of(items, 0.1, 42));
        assertEquals(10, s.validation().size());
        assertEquals(91, s.train().size());
        HashSet<Integer> all = new HashSet<>(s.train());
        all.addAll(s.validation());
        assertEquals(101, all.size());
        assertNotEquals(s.validation(), Split.of(items, 0.1, 43).validation());
        assertNotEquals(items.subList(0, 10), s.validation(), "shuffled, not the head");
    }
}
