package io.peft4j.datasets;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One training row in Hugging Face's layout: token ids, labels ({@value #IGNORE} on every position that is not
 * trained; labels are not shifted, the loss shifts them), attention mask and position ids. An unpacked example has
 * mask 1 on every token. A packed row ({@link Packing}) holds several sequences: its attention mask holds the
 * 1-based sequence number of each token (0 = padding) and its position ids restart at 0 for every sequence, so the
 * model attends only within a sequence: a block-diagonal causal mask ({@link #attends}).
 *
 * <pre>{@code
 * TrainingExample ex = encoder.encode(conversation).example();
 * int trained = ex.trainedTokens();
 * boolean sees = ex.attends(5, 2);
 * }</pre>
 * Immutable by convention (the arrays are not copied on access; do not modify them). Thread-safe.
 *
 * @param inputIds      token ids, [seq]
 * @param labels        target ids or {@value #IGNORE}, [seq]
 * @param attentionMask 0 = padding, else the 1-based sequence number, [seq]
 * @param positionIds   position of each token within its sequence, [seq]
 *
 * @since 0.1.0
 */
public record TrainingExample(int[] inputIds, int[] labels, int[] attentionMask, int[] positionIds) {
    /** The label of positions that are not trained (PyTorch's {@code ignore_index}). */
    public static final int IGNORE = -100;

    public TrainingExample {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(attentionMask, "attentionMask");
        Objects.requireNonNull(positionIds, "positionIds");
        int n = inputIds.length;
        if (labels.length != n || attentionMask.length != n || positionIds.length != n) {
            throw new IllegalArgumentException("lengths differ: inputIds " + n + ", labels " + labels.length
                    + ", attentionMask " + attentionMask.length + ", positionIds " + positionIds.length);
        }
    }

    /** An unpacked example: mask all 1, positions 0..n-1. */
    public static TrainingExample of(int[] inputIds, int[] labels) {
        int[] mask = new int[inputIds.length];
        int[] pos = new int[inputIds.length];
        for (int i = 0; i < pos.length; i++) {
            mask[i] = 1;
            pos[i] = i;
        }
        return new TrainingExample(inputIds, labels, mask, pos);
    }

    /**
     * This row as the {@link io.peft4j.core.train.Trainer} takes it: ids, labels, sequence numbers and positions,
     * so a packed row keeps its block-diagonal layout in training.
     */
    public io.peft4j.core.train.Example forTrainer() {
        return new io.peft4j.core.train.Example(inputIds, labels, attentionMask, positionIds);
    }

    public int length() {
        return inputIds.length;
    }

    /** Positions whose label is not {@value #IGNORE}. */
    public int trainedTokens() {
        int n = 0;
        for (int l : labels) {
            n += l == IGNORE ? 0 : 1;
        }
        return n;
    }

    /** Non-padding positions. */
    public int realTokens() {
        int n = 0;
        for (int m : attentionMask) {
            n += m == 0 ? 0 : 1;
        }
        return n;
    }

    /** Whether position {@code query} may attend to {@code key}: causal, same sequence, neither is padding. */
    public boolean attends(int query, int key) {
        return key <= query && attentionMask[query] != 0 && attentionMask[query] == attentionMask[key];
    }

    /** Start offsets of the sequences in this row (one entry for an unpacked example), padding excluded. */
    public List<Integer> sequenceStarts() {
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < attentionMask.length; i++) {
            if (attentionMask[i] != 0 && (i == 0 || attentionMask[i] != attentionMask[i - 1])) {
                starts.add(i);
            }
        }
        return starts;
    }
}
