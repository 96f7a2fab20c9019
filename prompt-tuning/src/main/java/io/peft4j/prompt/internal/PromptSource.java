package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;

import java.util.List;
import java.util.Map;

/**
 * Where a {@link SoftPromptAdapter}'s virtual-token embeddings come from: a trainable table (prompt tuning) or an
 * encoder over one (P-tuning). Owns its arrays; not thread-safe (the adapter's {@code PeftModel} serialises calls).
 */
public interface PromptSource extends AutoCloseable {

    /** The virtual-token embeddings {@code [num_virtual_tokens, token_dim]} for one forward (differentiable). */
    NDArray prompts(boolean training);

    /** Arrays gradients flow into (live). */
    List<NDArray> trainableParameters();

    /** Scalars in {@link #trainableParameters()} (PEFT's count for the method). */
    long parameterCount();

    /** PEFT's saved tensors ({@code prompt_embeddings}); loading copies file values into these arrays. */
    Map<String, NDArray> stateDict();

    /** Called after {@link #stateDict()} arrays were overwritten by a load. */
    void onStateLoaded();

    /** Whether {@link #stateDict()} is the trainable state itself (a table), not an encoder's output. */
    default boolean savedFormIsTrainingState() {
        return true;
    }

    @Override
    void close();
}
