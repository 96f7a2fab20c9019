package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.LlamaModel;
import io.peft4j.quant.QuantizedCheckpoints;
import picocli.CommandLine.Option;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code --model} and {@code --quantize}, shared by the commands that run a model. Mix in with
 * {@code @Mixin ModelOptions model;}. 4-bit folders (transformers + bitsandbytes layout) load as stored.
 */
final class ModelOptions {
    @Option(names = "--model", required = true,
            description = "A .gguf file or a Hugging Face model folder (dense or bitsandbytes 4-bit).")
    Path model;

    @Option(names = "--quantize", defaultValue = "none", description = "Quantize the projections on load: "
            + "none (default), nf4 (+ double quant), fp4 or int8. A 4-bit folder loads as stored.")
    String quantize;

    /** Opens {@link #model} (a 4-bit folder as its dequantizing logical view). */
    Checkpoint open() throws PeftException, NoSuchFileException {
        return QuantizedCheckpoints.open(model);
    }

    /** Loads the model of {@code ckpt} with the linear-layer factory {@code --quantize} selects. */
    LlamaModel load(Checkpoint ckpt, NDManager manager) throws PeftException {
        return LlamaModel.load(ckpt.config(), ckpt.tensors(), QuantizedCheckpoints.linearFactory(ckpt, quantize),
                manager);
    }
}
