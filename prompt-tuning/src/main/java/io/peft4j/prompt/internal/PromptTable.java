package io.peft4j.prompt.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.List;
import java.util.Map;

/**
 * Prompt tuning's source: the virtual-token embeddings are the trainable table itself
 * ({@code prompt_embeddings [num_virtual_tokens, token_dim]}).
 */
public final class PromptTable implements PromptSource {
    /** PEFT's key of the virtual-token embeddings in {@code adapter_model.safetensors}. */
    public static final String KEY = "prompt_embeddings";

    private final NDManager manager;
    private final NDArray table; // [num_virtual_tokens, token_dim]

    /** A table holding {@code values} ({@code rows * dim} floats), trainable. */
    public PromptTable(NDManager parent, float[] values, int rows, int dim) {
        this.manager = parent.newSubManager();
        this.table = manager.create(values, new Shape(rows, dim));
        table.setRequiresGradient(true);
    }

    @Override
    public NDArray prompts(boolean training) {
        return table;
    }

    @Override
    public List<NDArray> trainableParameters() {
        return List.of(table);
    }

    @Override
    public long parameterCount() {
        return table.size();
    }

    @Override
    public Map<String, NDArray> stateDict() {
        return Map.of(KEY, table);
    }

    @Override
    public void onStateLoaded() {
        // the table is read directly by every forward
    }

    @Override
    public void close() {
        manager.close();
    }
}
