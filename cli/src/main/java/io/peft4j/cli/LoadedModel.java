package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.CausalLM;

/**
 * What {@link ModelOptions#load} opened: the checkpoint (tokenizer, chat template), the model and the
 * {@link PeftModel} over it, holding the {@code --adapter} when one was given. Closing frees them in reverse order.
 *
 * @param checkpoint the opened checkpoint
 * @param manager    owner of the model's native memory
 * @param model      the model; its projections carry the adapter's layers when one is loaded
 * @param peft       the adapters over {@code model} (empty without {@code --adapter})
 */
record LoadedModel(Checkpoint checkpoint, NDManager manager, CausalLM model, PeftModel peft)
        implements AutoCloseable {

    /**
     * The model as generation and evaluation should see it: through the {@link PeftModel} (so any adapter type
     * applies, soft prompts included), or the bare model without one.
     */
    CausalLM adapted() {
        return peft == null ? model : peft.asCausalLM();
    }

    /** Whether {@code --adapter} was loaded. */
    boolean hasAdapter() {
        return peft != null && !peft.adapterNames().isEmpty();
    }

    @Override
    public void close() {
        if (peft != null) {
            peft.close();
        }
        if (model != null) {
            model.close();
        }
        if (manager != null) {
            manager.close();
        }
        checkpoint.close();
    }
}
