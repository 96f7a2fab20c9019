package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.pretrained.Peft4jModel;
import picocli.CommandLine.Option;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code --model}, {@code --quantize} and {@code --adapter}, shared by the commands that run a model, and the one
 * way they load it: {@link #load} opens the checkpoint, builds the model and applies the adapter. Mix in with
 * {@code @Mixin ModelOptions model;}. Loading goes through {@link Peft4jModel}, as a library user's would; 4-bit folders (transformers + bitsandbytes layout) load as stored.
 */
final class ModelOptions {
    @Option(names = "--model", required = true,
            description = "A .gguf file or a Hugging Face model folder (dense or bitsandbytes 4-bit).")
    Path model;

    @Option(names = "--quantize", description = "How to hold the projections: none (fp32), nf4 (+ double quant), "
            + "fp4, int8, gguf (a GGUF file's Q4_0/Q4_1/Q8_0 blocks as stored; small-batch decode reads them "
            + "directly) or auto: gguf for a GGUF file with such blocks, else none. Default: auto for generate and "
            + "eval, none for finetune and merge. A 4-bit folder loads as stored.")
    String quantize;

    @Option(names = "--adapter", description = "A PEFT adapter folder (adapter_config.json + "
            + "adapter_model.safetensors, LoRA, ...) applied on top of the model.")
    Path adapter;

    /**
     * Commands that only run the model forward: without {@code --quantize} they keep a GGUF file's blocks
     * ({@code auto}), so decode reads 4-bit weights instead of an fp32 copy (5x the tokens/s at a third of the
     * memory on SmolLM2 Q4_1). Training and merging want fp32 weights and default to {@code none}.
     */
    private static final Set<String> INFERENCE_COMMANDS = Set.of("generate", "eval");

    /** Opens {@link #model} without loading it (a 4-bit folder as its dequantizing logical view). */
    Checkpoint open() throws PeftException, NoSuchFileException {
        return Peft4jModel.openCheckpoint(model);
    }

    /**
     * Loads {@link #model} through the library's entry point with the {@code --quantize} choice (its default depends
     * on {@code command}, see {@link #INFERENCE_COMMANDS}) and, with
     * {@code --adapter}, that adapter as {@value PeftModel#DEFAULT} (a status line names it). On failure nothing
     * stays open.
     */
    Peft4jModel load(JsonOption out, String command) throws PeftException, NoSuchFileException {
        String q = quantize != null ? quantize : INFERENCE_COMMANDS.contains(command) ? "auto" : "none";
        Peft4jModel loaded = Peft4jModel.builder().setPath(model).optQuantization(q).optAdapter(adapter).build();
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
