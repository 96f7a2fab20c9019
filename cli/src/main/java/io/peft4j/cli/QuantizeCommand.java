package io.peft4j.cli;

import io.peft4j.core.io.OutputLock;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedCheckpointWriter;
import io.peft4j.quant.QuantizedCheckpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j quantize --model PATH --output DIR}: writes a 4-bit folder in the transformers + bitsandbytes layout
 * (nf4/fp4; loads in Python with {@code from_pretrained}) or peft4j's INT8 variant of it.
 */
@Command(name = "quantize", description = "Quantize a model to a bitsandbytes-layout 4-bit folder (nf4/fp4) "
        + "or peft4j's int8 folder.")
final class QuantizeCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a dense Hugging Face model folder.")
    Path model;

    @Option(names = "--output", required = true, description = "Folder to write (replaced whole, atomically; a "
            + "non-empty folder that is not a previous quantize output needs --overwrite).")
    Path output;

    @Option(names = "--overwrite", description = "Replace --output even if it holds other files.")
    boolean overwrite;

    @Option(names = "--type", defaultValue = "nf4", description = "nf4 (default), fp4 or int8 (int8: peft4j-only "
            + "format).")
    String type;

    @Option(names = "--double-quant", description = "Quantize the absmax values too (QLoRA's double quantization).")
    boolean doubleQuant;

    @Option(names = "--block-size", defaultValue = "64", description = "Values per absmax block: 32..4096, a power "
            + "of two (default ${DEFAULT-VALUE}).")
    int blockSize;

    @Override
    public Integer call() throws Exception {
        QuantConfig config = new QuantConfig(QuantType.parse(type), blockSize, doubleQuant);
        long start = System.nanoTime();
        QuantizedCheckpointWriter.Summary s;
        try (OutputLock lock = OutputGuard.modelFolder(output, QuantizedCheckpointWriter.WRITTEN_BY, overwrite,
                Map.of("--model", model))) {
            out.status("quantize: " + model + " -> " + output + " (" + config.type().bnbName() + ", block "
                    + blockSize + (doubleQuant ? ", double quant" : "") + ")");
            s = QuantizedCheckpoints.quantize(model, output, config);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("output", output.toAbsolutePath().toString());
        r.put("type", config.type().bnbName());
        r.put("bytes_per_param", Math.round(s.bytesPerParam() * 10000) / 10000.0);
        r.put("bytes_per_param_all", Math.round(s.bytesPerParamAll() * 10000) / 10000.0);
        r.put("quantized_parameters", s.quantizedParameters());
        r.put("parameters", s.parameters());
        r.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
        out.print(r);
        return 0;
    }
}
