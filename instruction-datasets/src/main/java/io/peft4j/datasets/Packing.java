package io.peft4j.datasets;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs examples into fixed-length rows with no attention across packed sequences: in each row the attention mask
 * holds the 1-based sequence number of each token (0 for padding at the end), position ids restart at 0 for every
 * sequence, and the label of each sequence's first token is {@value TrainingExample#IGNORE} so no sequence is
 * trained to predict the next one's start. A model builds the block-diagonal causal mask from the sequence numbers
 * ({@link TrainingExample#attends}). Placement is first-fit in input order, so it is deterministic.
 *
 * <pre>{@code
 * List<TrainingExample> rows = Packing.pack(encoded.examples(), 1024, tokenizer.padTokenId());
 * List<Integer> starts = rows.get(0).sequenceStarts();
 * boolean crosses = rows.get(0).attends(starts.get(1), starts.get(1) - 1); // false
 * }</pre>
 * Stateless and thread-safe.
 *
 * @since 0.1.0
 */
public final class Packing {
    private Packing() {
    }

    /** Packs {@code examples} (each at most {@code rowLength} long) into rows of exactly {@code rowLength}. */
    public static List<TrainingExample> pack(List<TrainingExample> examples, int rowLength, int padId) {
        if (rowLength < 1) {
            throw new IllegalArgumentException("rowLength must be >= 1, was " + rowLength);
        }
        List<List<TrainingExample>> rows = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            TrainingExample e = examples.get(i);
            if (e.length() > rowLength) {
                throw new IllegalArgumentException("example " + i + " has " + e.length()
                        + " tokens, more than the row length " + rowLength + " (truncate first)");
            }
            int row = 0;
            while (row < rows.size() && used.get(row) + e.length() > rowLength) {
                row++;
            }
            if (row == rows.size()) {
                rows.add(new ArrayList<>());
                used.add(0);
            }
            rows.get(row).add(e);
            used.set(row, used.get(row) + e.length());
        }
        List<TrainingExample> out = new ArrayList<>(rows.size());
        for (List<TrainingExample> r : rows) {
            out.add(row(r, rowLength, padId));
        }
        return out;
    }

    private static TrainingExample row(List<TrainingExample> parts, int rowLength, int padId) {
        int[] ids = new int[rowLength];
        int[] labels = new int[rowLength];
        int[] mask = new int[rowLength];
        int[] pos = new int[rowLength];
        java.util.Arrays.fill(ids, padId);
        java.util.Arrays.fill(labels, TrainingExample.IGNORE);
        int at = 0;
        for (int s = 0; s < parts.size(); s++) {
            TrainingExample e = parts.get(s);
            for (int i = 0; i < e.length(); i++) {
                ids[at + i] = e.inputIds()[i];
                labels[at + i] = i == 0 ? TrainingExample.IGNORE : e.labels()[i];
                mask[at + i] = s + 1;
                pos[at + i] = i;
            }
            at += e.length();
        }
        return new TrainingExample(ids, labels, mask, pos);
    }
}
