package io.peft4j.cli;

import io.peft4j.core.pretrained.Peft4jModel;
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

    @Option(names = "--output", required = true, description = "Folder to write (replaced whole).")
    Path output;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        model.requireAdapter("merge");
        try (Peft4jModel loaded = model.load(out, "merge")) {
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
