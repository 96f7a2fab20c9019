package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;

import java.util.function.Supplier;

/**
 * The rule every overridable weight follows (trainable copies such as PEFT's {@code modules_to_save}): a forward
 * reads what the override supplies when it is set and returns non-null, else the stored weight, which is never
 * changed.
 * <pre>{@code
 * NDArray w = WeightOverride.effective(stored, override);   // override may be null
 * }</pre>
 *
 * @since 0.1.0
 */
public final class WeightOverride {
    private WeightOverride() {
    }

    /** {@code stored}, or what {@code override} supplies when it is set and returns non-null. */
    public static NDArray effective(NDArray stored, Supplier<NDArray> override) {
        NDArray o = override == null ? null : override.get();
        return o == null ? stored : o;
    }
}
