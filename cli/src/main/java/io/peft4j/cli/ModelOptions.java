package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.pretrained.Peft4jModel;
import picocli.CommandLine.Option;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code --model}, {@code --quantize} and {@code --adapter}, shared by the commands that run a model, and the one
 * way they load it: {@link #load} opens the checkpoint, builds the model and applies the adapter. Mix in with
 * {@code @Mixin ModelOptions model;}. Loading goes through {@link Peft4jModel}, as a library user's would; 4-bit folders (transformers + bitsandbytes layout) load as stored.
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

    /** Opens {@link #model} without loading it (a 4-bit folder as its dequantizing logical view). */
    Checkpoint open() throws PeftException, NoSuchFileException {
        return Peft4jModel.openCheckpoint(model);
    }

    /**
     * Loads {@link #model} through the library's entry point with the {@code --quantize} choice and, with
     * {@code --adapter}, that adapter as {@value PeftModel#DEFAULT} (a status line names it). On failure nothing
     * stays open.
     */
    Peft4jModel load(JsonOption out, String command) throws PeftException, NoSuchFileException {
        Peft4jModel loaded = Peft4jModel.builder().setPath(model).optQuantization(quantize).optAdapter(adapter).build();
        if (adapter != null) {
            out.status(command + ": adapter " + adapter + " ("
                    + loaded.peft().adapter(PeftModel.DEFAULT).config().peftType() + ")");
        }
        return loaded;
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
