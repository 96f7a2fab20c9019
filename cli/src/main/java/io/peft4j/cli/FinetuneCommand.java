package io.peft4j.cli;

import io.peft4j.core.ProcessMemory;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.ProgressPrinter;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.EncodedDataset;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.FieldNames;
import io.peft4j.datasets.TrainingExample;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j finetune --method lora --model PATH --data FILE --output DIR}: trains a LoRA adapter and saves it
 * in PEFT's layout (plus resumable checkpoints and {@code metrics.jsonl}) under {@code --output}.
 */
@Command(name = "finetune", description = "Fine-tune an adapter (LoRA) on an instruction dataset; saves a PEFT adapter.")
final class FinetuneCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--method", defaultValue = "lora", description = "Adapter method (lora).")
    String method;

    @Mixin
    ModelOptions model;

    @Option(names = "--data", required = true, description = "Training data (JSON/JSONL: alpaca, prompt/completion, messages, ...).")
    Path data;

    @Option(names = "--eval-data", description = "Held-out data evaluated during and after training.")
    Path evalData;

    @Option(names = "--template", description = "Chat template name or 'chat' (default: the model's, else alpaca).")
    String template;

    @Option(names = "--field", description = "Field rename CANONICAL=ACTUAL, e.g. instruction=question (repeatable).")
    List<String> fields;

    @Option(names = "--output", required = true, description = "Folder for the adapter, checkpoints and metrics.")
    Path output;

    @Option(names = "--r", defaultValue = "8", description = "LoRA rank (default ${DEFAULT-VALUE}).")
    int r;

    @Option(names = "--alpha", defaultValue = "16", description = "LoRA alpha (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--dropout", defaultValue = "0.05", description = "LoRA dropout (default ${DEFAULT-VALUE}).")
    double dropout;

    @Option(names = "--target-modules", defaultValue = "q_proj,v_proj",
            description = "Comma-separated names, 'all-linear', or a regex prefixed with 're:' (default ${DEFAULT-VALUE}).")
    String targetModules;

    @Option(names = "--use-dora", description = "DoRA (weight-decomposed LoRA).")
    boolean dora;

    @Option(names = "--use-rslora", description = "Rank-stabilised scaling alpha/sqrt(r).")
    boolean rslora;

    @Option(names = "--epochs", defaultValue = "1", description = "Passes over the data when --max-steps is 0.")
    int epochs;

    @Option(names = "--max-steps", defaultValue = "0", description = "Optimizer steps (overrides --epochs).")
    int maxSteps;

    @Option(names = "--lr", defaultValue = "2e-4", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, linear or cosine.")
    String schedule;

    @Option(names = "--warmup-steps", defaultValue = "0", description = "Linear warmup steps.")
    int warmup;

    @Option(names = "--batch-size", defaultValue = "4", description = "Examples per micro-batch.")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step.")
    int gradAccum;

    @Option(names = "--max-seq-len", defaultValue = "512", description = "Longest example in tokens.")
    int maxSeqLen;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of adapter init, data order and dropout.")
    long seed;

    @Option(names = "--eval-every", defaultValue = "0", description = "Evaluate every N steps (0: at the end).")
    int evalEvery;

    @Option(names = "--checkpoint-every", defaultValue = "50", description = "Resumable checkpoint every N steps.")
    int checkpointEvery;

    @Option(names = "--gradient-checkpointing",
            description = "Recompute each decoder layer in backward: less activation memory, ~1 more forward of time.")
    boolean gradientCheckpointing;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in --output.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        if (!"lora".equalsIgnoreCase(method)) {
            throw new IllegalArgumentException("--method " + method + " is not available in this build (supported: lora)");
        }
        long start = System.nanoTime();
        model.refuseAdapter("finetune", "it trains a new adapter (continue an interrupted run with --resume)");
        try (LoadedModel loaded = model.load(out, "finetune")) {
            Checkpoint ckpt = loaded.checkpoint();
            PeftModel peft = loaded.peft();
            List<Example> train = examples(data, ckpt);
            List<Example> eval = evalData == null ? List.of() : examples(evalData, ckpt);
            peft.addAdapter(PeftModel.DEFAULT, loraConfig(), seed);
            out.status("finetune: " + peft.trainableParameters());
            TrainerConfig cfg = TrainerConfig.builder().optLearningRate(lr).optSchedule(LrSchedule.parse(schedule))
                    .optWarmupSteps(warmup).optMaxSteps(maxSteps).optEpochs(epochs).optBatchSize(batchSize)
                    .optGradAccum(gradAccum).optSeed(seed).optEvalEvery(evalEvery)
                    .optCheckpointEvery(checkpointEvery).optOutputDir(output)
                    .optActivationCheckpointing(gradientCheckpointing)
                    .optPadTokenId(Math.max(0, ckpt.tokenizer().padTokenId())).build();
            TrainingResult result;
            try (Trainer trainer = new Trainer(peft, cfg)) {
                trainer.addListener(new ProgressPrinter(System.err, 10));
                if (resume) {
                    Path last = Trainer.latestCheckpoint(output);
                    if (last == null) {
                        throw new IllegalArgumentException("--resume: no checkpoint-N folder in " + output);
                    }
                    result = trainer.resume(last, train, eval);
                } else {
                    result = trainer.train(train, eval);
                }
            }
            peft.save(output);
            out.status("finetune: adapter saved to " + output);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("steps", result.steps());
            r.put("train_loss", round(result.trainLoss()));
            r.put("eval_loss", Double.isNaN(result.evalLoss()) ? null : round(result.evalLoss()));
            r.put("adapter_dir", output.toAbsolutePath().toString());
            r.put("tokens_per_s", Math.round(result.tokensPerSecond() * 10) / 10.0);
            r.put("peak_rss_mb", ProcessMemory.peakRssBytes().isPresent()
                    ? ProcessMemory.peakRssBytes().getAsLong() / (1024 * 1024) : null);
            r.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            out.print(r);
        }
        return 0;
    }

    private LoraConfig loraConfig() {
        TargetModules targets = TargetModules.parse(targetModules);
        return LoraConfig.builder().optR(r).optLoraAlpha(alpha).optLoraDropout(dropout).optTargetModules(targets)
                .optUseDora(dora).optUseRslora(rslora).optBaseModelNameOrPath(model.model.toString()).build();
    }

    private List<Example> examples(Path file, Checkpoint ckpt) throws Exception {
        io.peft4j.core.model.ContextWindowException.check(ckpt.config(), maxSeqLen, "--max-seq-len");
        FieldNames names = FieldNames.DEFAULT;
        for (String f : fields == null ? List.<String>of() : fields) {
            String[] kv = f.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("--field must be CANONICAL=ACTUAL, got '" + f + "'");
            }
            names = names.with(kv[0].trim(), kv[1].trim());
        }
        Dataset d = DatasetReader.builder().setPath(file).optFieldNames(names).build().readAll();
        Tokenizer tok = ckpt.tokenizer();
        String name = template != null ? template : ckpt.chatTemplate().isPresent() ? "chat" : "alpaca";
        EncodedDataset enc = ExampleEncoder.builder().setTokenizer(tok)
                .setTemplate(ChatTemplate.resolve(name, ckpt.chatTemplate(), tok)).optMaxSeqLen(maxSeqLen).build()
                .encodeAll(d.records());
        List<Example> out2 = new ArrayList<>();
        for (TrainingExample e : enc.examples()) {
            out2.add(new Example(e.inputIds(), e.labels()));
        }
        if (out2.isEmpty()) {
            throw new IllegalArgumentException(file + ": no usable examples (" + d.badRecords() + " bad records)");
        }
        out.status("finetune: " + out2.size() + " examples from " + file + " (template " + name + ")");
        return out2;
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
