package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.model.TokenEmbedding;
import io.peft4j.core.model.block.WeightOverride;

import java.util.function.Supplier;

/**
 * The model's token embedding as forwards read it: the stored {@link TokenEmbedding}, or its override (a trainable
 * copy, PEFT's {@code modules_to_save}) while one is set and supplies an array. The stored embedding is never changed.
 */
final class OverridableEmbedding {
    private final TokenEmbedding stored;
    private volatile Supplier<NDArray> override;

    OverridableEmbedding(TokenEmbedding stored) {
        this.stored = stored;
    }

    TokenEmbedding stored() {
        return stored;
    }

    Supplier<NDArray> override() {
        return override;
    }

    void override(Supplier<NDArray> weight) {
        override = weight;
    }

    /** Rows {@code [B, T, hidden]} for {@code ids [B, T]} on the ids' manager. */
    NDArray lookup(NDArray ids) {
        NDArray o = WeightOverride.effective(null, override);
        if (o == null) {
            return stored.lookup(ids);
        }
        NDArray rows = o.get(ids);
        rows.attach(ids.getManager());
        return rows;
    }

    /** The table forwards read now {@code [vocab, hidden]} (builds a quantized embedding's table). */
    NDArray table() {
        NDArray o = WeightOverride.effective(null, override);
        return o != null ? o : stored.table();
    }

    /** Whether the rows forwards read carry a gradient (a trainable copy, or a stored table made trainable). */
    boolean trainable() {
        NDArray o = WeightOverride.effective(null, override);
        return o != null ? o.hasGradient() : stored.tableResident() && stored.table().hasGradient();
    }
}
