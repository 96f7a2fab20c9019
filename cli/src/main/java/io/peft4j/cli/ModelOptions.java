package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.quant.QuantizedCheckpoints;
import picocli.CommandLine.Option;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code --model}, {@code --quantize} and {@code --adapter}, shared by the commands that run a model, and the one
 * way they load it: {@link #load} opens the checkpoint, builds the model and applies the adapter. Mix in with
 * {@code @Mixin ModelOptions model;}. 4-bit folders (transformers + bitsandbytes layout) load as stored.
 */
final class ModelOptions {
    @Option(names = "--model", required = true,
            description = "A .gguf file or a Hugging Face model folder (dense or bitsandbytes 4-bit).")
    Path model;

    @Option(names = "--quantize", defaultValue = "none", description = "Quantize the projections on load: "
            + "none (default), nf4 (+ double quant), fp4 or int8. A 4-bit folder loads as stored.")
    String quantize;

    @Option(names = "--adapter", description = "A PEFT adapter folder (adapter_config.json + "
            + "adapter_model.safetensors, LoRA, ...) applied on top of the model.")
    Path adapter;

    /** Opens {@link #model} (a 4-bit folder as its dequantizing logical view). */
    Checkpoint open() throws PeftException, NoSuchFileException {
        return QuantizedCheckpoints.open(model);
    }

    /**
     * Opens the checkpoint, loads its model with the {@code --quantize} factory and, with {@code --adapter}, loads
     * that adapter as {@value PeftModel#DEFAULT} (a status line names it). On failure nothing stays open.
     */
    LoadedModel load(JsonOption out, String command) throws PeftException, NoSuchFileException {
        Checkpoint ckpt = open();
        NDManager manager = null;
        CausalLM lm = null;
        PeftModel peft = null;
        try {
            manager = Peft4j.newManager();
            lm = ModelFamilies.load(ckpt.config(), ckpt.tensors(), QuantizedCheckpoints.linearFactory(ckpt, quantize),
                    manager);
            peft = PeftModel.wrap(lm);
            if (adapter != null) {
                peft.loadAdapter(adapter, PeftModel.DEFAULT);
                out.status(command + ": adapter " + adapter + " ("
                        + peft.adapter(PeftModel.DEFAULT).config().peftType() + ")");
            }
            return new LoadedModel(ckpt, manager, lm, peft);
        } catch (PeftException | RuntimeException e) {
            new LoadedModel(ckpt, manager, lm, peft).close();
            throw e;
        }
    }

    /** {@code --adapter}, or an {@link IllegalArgumentException} saying {@code command} needs it. */
    Path requireAdapter(String command) {
        if (adapter == null) {
            throw new IllegalArgumentException(command + " needs --adapter DIR (a PEFT adapter folder)");
        }
        return adapter;
    }

    /** Refuses {@code --adapter} for a command that cannot use it, saying why. */
    void refuseAdapter(String command, String why) {
        if (adapter != null) {
            throw new IllegalArgumentException(command + " does not take --adapter: " + why);
        }
    }
}
