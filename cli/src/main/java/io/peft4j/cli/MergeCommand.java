package io.peft4j.cli;

import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.adapter.MergedModelWriter;
import io.peft4j.core.io.OutputLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code peft4j merge --model PATH --adapter DIR --output DIR}: folds an adapter into the weights, writes a HF folder. */
@Command(name = "merge", description = "Merge an adapter into the base weights and write a Hugging Face model folder.")
final class MergeCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Mixin
    ModelOptions model;

    @Option(names = "--output", required = true, description = "Folder to write (replaced whole, atomically; a "
            + "non-empty folder that is not a previous merge output needs --overwrite).")
    Path output;

    @Option(names = "--overwrite", description = "Replace --output even if it holds other files.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        Path adapter = model.requireAdapter("merge");
        Map<String, Path> inputs = new LinkedHashMap<>();
        inputs.put("--model", model.model);
        inputs.put("--adapter", adapter);
        try (OutputLock lock = OutputGuard.modelFolder(output, MergedModelWriter.WRITTEN_BY, overwrite, inputs);
             Peft4jModel loaded = model.load(out, "merge")) {
            out.status("merge: writing " + output);
            loaded.mergeAndExport(output);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("output", output.toAbsolutePath().toString());
            r.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            out.print(r);
        }
        return 0;
    }
}
