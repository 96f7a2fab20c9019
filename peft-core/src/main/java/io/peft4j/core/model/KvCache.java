package io.peft4j.core.model;

/**
 * Keys and values of earlier positions, per layer, so generation feeds one new token at a time.
 * Created by {@link CausalLM#newKvCache(int)}; owns native memory, so close it after generation.
 * <p>
 * A server doing continuous batching changes the rows between forwards: finished rows leave with
 * {@link #retainRows}, and new rows are prefilled into a fresh cache of their own and join with
 * {@link #appendRows}. Rows of different lengths are right-aligned on the last position (the shorter ones
 * left-padded and masked), so every row continues exactly as it would alone:
 * <pre>{@code
 * try (KvCache joining = model.newKvCache(2)) {
 *     NDArray first = model.forwardLast(newIds, newMask, joining);   // [2, vocab], the new rows' next logits
 *     cache.retainRows(0, 2);          // rows 0 and 2 still run, row 1 finished
 *     cache.appendRows(joining);       // now 4 rows: old 0, old 2, then the joining rows
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public interface KvCache extends AutoCloseable {

    /** Positions already cached (the next token's position). */
    int length();

    /**
     * Makes room for {@code positions} cached positions in total, so that a generation of known length allocates
     * once instead of growing (and copying) step by step. A hint: caches that do not preallocate ignore it.
     */
    default void reserve(int positions) {
    }

    /**
     * Rows (sequences) of the batch this cache holds: the {@code B} every forward through it must have.
     *
     * @throws UnsupportedOperationException by caches that cannot report it
     */
    default int batchSize() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support row operations");
    }

    /**
     * Keeps only the rows {@code rows} (strictly increasing indices into the current batch), in that order; the
     * others are forgotten and {@link #batchSize()} becomes {@code rows.length}. Positions that were padding in
     * every kept row may be forgotten too ({@link #length()} may shrink); what each kept row attends to does not
     * change. Not during a forward.
     *
     * @throws IllegalArgumentException       when the indices are out of range or not strictly increasing
     * @throws UnsupportedOperationException by caches that cannot change rows
     */
    default void retainRows(int... rows) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support row operations");
    }

    /**
     * Appends copies of every row of {@code other} (a cache of the same model, left unchanged; close it
     * yourself) after this cache's rows. Rows are right-aligned on their last position: {@link #length()} becomes
     * the longer of the two, and the shorter side's rows get masked left padding, so each row's next positions
     * and attention stay those it would have alone. Not during a forward.
     *
     * @throws IllegalArgumentException       when {@code other} is not a cache of the same model
     * @throws UnsupportedOperationException by caches that cannot change rows
     */
    default void appendRows(KvCache other) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support row operations");
    }

    /** Drops everything cached; the cache can be reused for a new prompt. */
    void reset();

    @Override
    void close();
}
