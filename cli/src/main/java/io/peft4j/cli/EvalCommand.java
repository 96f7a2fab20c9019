package io.peft4j.cli;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.generate.EvalResult;
import io.peft4j.core.generate.PerplexityEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Option(names = "--data", required = true, description = "Plain text, or .jsonl with a 'text' field per line.")
    Path data;

    @Option(names = "--max-length", defaultValue = "512", description = "Window length in tokens (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--stride", description = "Window step in tokens (default: half the window).")
    Integer stride;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        List<String> texts = PerplexityEvaluator.readTexts(data); // bad data fails before the model loads
        try (LoadedModel loaded = model.load(out, "eval")) {
            Checkpoint ckpt = loaded.checkpoint();
            int window = Math.min(maxLength, ckpt.config().maxPositions() > 0 ? ckpt.config().maxPositions() : maxLength);
            int step = stride == null ? Math.max(1, window / 2) : stride;
            out.status("eval: window " + window + ", stride " + step + " over " + data);
            EvalResult r = new PerplexityEvaluator(loaded.model(), ckpt.tokenizer()).evaluateTexts(texts, window, step);
            if (r.tokens() == 0 || !Double.isFinite(r.loss())) {
                throw new IllegalArgumentException("eval: the loss over " + r.tokens() + " tokens of " + data + " is "
                        + r.loss() + (r.tokens() == 0 ? " (no tokens to score)" : ": the model or adapter produces "
                        + "NaN/Inf logits"));
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
}
