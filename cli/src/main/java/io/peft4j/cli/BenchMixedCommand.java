package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.MixedBatchBenchmark;
import io.peft4j.lora.TargetModules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench mixed --model PATH --adapters 4 --seq 128}: one batch whose rows use different LoRA adapters
 * against one run per adapter, and against a batch with a single adapter (the cost of mixing).
 */
@Command(name = "mixed", description = "Mixed-adapter batch vs one run per adapter (prefill and generation).")
final class BenchMixedCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--adapters", defaultValue = "4", description = "Adapters, one per batch row (default ${DEFAULT-VALUE}).")
    int adapters;

    @Option(names = "--seq", defaultValue = "128", description = "Prompt tokens per row (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--new-tokens", defaultValue = "16", description = "Generated tokens per row (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--r", defaultValue = "16")
    int r;

    @Option(names = "--target-modules", defaultValue = "all-linear", description = "Comma list or all-linear.")
    String targets;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs (median), after one warm-up.")
    int repeats;

    @Override
    public Integer call() throws Exception {
        if (adapters < 1 || seq < 1 || newTokens < 1 || repeats < 1) {
            throw new IllegalArgumentException("--adapters, --seq, --new-tokens and --repeats must be >= 1");
        }
        TargetModules t = TargetModules.parse(targets);
        LoraConfig config = LoraConfig.builder().optR(r).optLoraAlpha(2.0 * r).optTargetModules(t)
                .optInitLoraWeights(InitLoraWeights.RANDOM).build();
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "mixed");
        try (Checkpoint ckpt = Checkpoints.open(model);
             NDManager manager = Peft4j.newManager();
             LlamaModel lm = LlamaModel.load(ckpt.config(), ckpt.tensors(), manager)) {
            out.status("bench mixed: " + adapters + " LoRA adapters r=" + r + " " + targets + ", seq " + seq + ", "
                    + newTokens + " new tokens ...");
            MixedBatchBenchmark.Result b = MixedBatchBenchmark.run(lm, config, adapters, seq, newTokens, repeats);
            res.put("adapters", adapters);
            res.put("seq", seq);
            res.put("new_tokens", newTokens);
            res.put("mixed_forward_s", round(b.mixedForwardS()));
            res.put("separate_forward_s", round(b.separateForwardS()));
            res.put("same_adapter_forward_s", round(b.sameForwardS()));
            res.put("mixed_generate_s", round(b.mixedGenerateS()));
            res.put("separate_generate_s", round(b.separateGenerateS()));
            res.put("ratio_forward_separate_over_mixed", round(b.separateForwardS() / b.mixedForwardS()));
            res.put("ratio_forward_mixed_over_same", round(b.mixedForwardS() / b.sameForwardS()));
            res.put("ratio_generate_separate_over_mixed", round(b.separateGenerateS() / b.mixedGenerateS()));
        }
        out.print(res);
        return 0;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
