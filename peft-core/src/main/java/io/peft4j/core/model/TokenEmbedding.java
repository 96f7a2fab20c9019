package io.peft4j.core.model;

import ai.djl.ndarray.NDArray;

/**
 * A model's token embedding {@code [vocab, hidden]}: rows looked up per token, and the whole fp32 table for the few
 * things that need it (a trainable copy, merging, a tied lm_head over a whole sequence). The dense embedding is its
 * table; a quantized one (the GGUF block factory's, which shares its blocks with the tied lm_head) decodes the rows
 * it is asked for and builds the table only on the first {@link #table()} call, so a model that only generates never
 * holds an fp32 copy of its largest weight. Thread-safe; owned by the model, which frees it.
 *
 * <pre>{@code
 * TokenEmbedding e = TokenEmbedding.of(weights.loadWeight("model.embed_tokens.weight", manager));
 * NDArray rows = e.lookup(inputIds);   // [B, T] ids -> [B, T, hidden] on inputIds' manager
 * }</pre>
 *
 * @since 0.1.0
 */
public interface TokenEmbedding {

    /** An embedding held as its fp32 table {@code [vocab, hidden]} (kept, not copied). */
    static TokenEmbedding of(NDArray table) {
        if (table.getShape().dimension() != 2) {
            throw new IllegalArgumentException("an embedding table is [vocab, hidden], got " + table.getShape());
        }
        return new TokenEmbedding() {
            @Override
            public NDArray lookup(NDArray ids) {
                NDArray rows = table.get(ids);
                rows.attach(ids.getManager());
                return rows;
            }

            @Override
            public NDArray table() {
                return table;
            }

            @Override
            public boolean tableResident() {
                return true;
            }

            @Override
            public long vocabSize() {
                return table.getShape().get(0);
            }

            @Override
            public long hiddenSize() {
                return table.getShape().get(1);
            }
        };
    }

    /** Rows {@code [..., hidden]} (fp32) for integer {@code ids [...]}, on {@code ids}' manager. */
    NDArray lookup(NDArray ids);

    /**
     * The fp32 table {@code [vocab, hidden]}, owned by the model (callers must not close it): the stored array, or
     * for a quantized embedding one built on the first call (values equal to the rows {@link #lookup} gives) and kept.
     */
    NDArray table();

    /** Whether the fp32 table is in memory now (always for a dense embedding). */
    boolean tableResident();

    /** Rows of the table. */
    long vocabSize();

    /** Columns of the table. */
    long hiddenSize();
}
