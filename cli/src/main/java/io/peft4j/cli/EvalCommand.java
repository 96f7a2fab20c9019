package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.generate.EvalResult;
import io.peft4j.core.generate.PerplexityEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code peft4j eval --model PATH --data FILE}: token-weighted loss and perplexity, sliding window. */
@Command(name = "eval", description = "Loss and perplexity of a model on a text file or the 'text' field of a JSONL file.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Mixin
    ModelOptions model;

    @Mixin
    DatasetOptions dataset;

    @Option(names = "--stride", description = "Window step in tokens (default: half the window).")
    Integer stride;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        checkOptions();
        List<String> texts = PerplexityEvaluator.readTexts(dataset.data); // bad data fails before the model loads
        try (LoadedModel loaded = model.load(out, "eval")) {
            Checkpoint ckpt = loaded.checkpoint();
            int window = Math.min(dataset.maxSeqLen, ckpt.config().maxPositions() > 0 ? ckpt.config().maxPositions()
                    : dataset.maxSeqLen);
            int step = stride == null ? Math.max(1, window / 2) : stride;
            out.status("eval: window " + window + ", stride " + step + " over " + dataset.data);
            EvalResult r = new PerplexityEvaluator(loaded.adapted(), ckpt.tokenizer()).evaluateTexts(texts, window, step);
            if (r.tokens() == 0 || !Double.isFinite(r.loss())) {
                throw new IllegalArgumentException("eval: the loss over " + r.tokens() + " tokens of " + dataset.data
                        + " is " + r.loss() + (r.tokens() == 0 ? " (no tokens to score)" : ": the model"
                        + (loaded.hasAdapter() ? " or the adapter " + model.adapter : " " + model.model)
                        + " produces non-finite logits (NaN/Inf weights?)"));
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("loss", r.loss());
            result.put("perplexity", r.perplexity());
            result.put("tokens", r.tokens());
            result.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            out.print(result);
        }
        return 0;
    }

    /** Option values and paths are checked before the model loads, naming the flag. */
    private void checkOptions() {
        if (dataset.maxSeqLen < 2) {
            throw new IllegalArgumentException("--max-length must be >= 2, got " + dataset.maxSeqLen
                    + " (see peft4j eval --help)");
        }
        if (stride != null && (stride < 1 || stride > dataset.maxSeqLen)) {
            throw new IllegalArgumentException("--stride must be in [1, --max-length " + dataset.maxSeqLen + "], got " + stride
                    + " (see peft4j eval --help)");
        }
        if (Files.isDirectory(dataset.data)) {
            throw new IllegalArgumentException("--data " + dataset.data + " is a directory; give a text file or a .jsonl file");
        }
        if (!Files.exists(dataset.data)) {
            throw new IllegalArgumentException("--data " + dataset.data + ": no such file");
        }
    }
}
