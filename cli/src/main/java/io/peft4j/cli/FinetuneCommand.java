package io.peft4j.cli;

import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.io.OutputLock;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.EncodedDataset;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.TrainingExample;
import io.peft4j.lora.LoraConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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

    @Option(names = "--method", defaultValue = "lora", description = "Adapter method: lora, prompt-tuning, "
            + "p-tuning or prefix-tuning.")
    String method;

    @Option(names = "--num-virtual-tokens", defaultValue = "20",
            description = "Soft prompts: virtual tokens before every input (default ${DEFAULT-VALUE}).")
    int numVirtualTokens;

    @Option(names = {"--prompt-init", "--init"}, defaultValue = "random",
            description = "Prompt tuning init: random, sample-vocab (or vocab) or text (default ${DEFAULT-VALUE}).")
    String promptInit;

    @Option(names = {"--prompt-init-text", "--init-text"}, description = "Prompt tuning: the text for --prompt-init text.")
    String promptInitText;

    @Option(names = "--encoder-type", description = "P-tuning: the prompt encoder, mlp (default) or lstm.")
    String encoderType;

    @Option(names = "--encoder-hidden-size", description = "P-tuning: the encoder's hidden size (default 128); "
            + "prefix tuning with --prefix-projection: the projection's (default: the key/value width).")
    Integer encoderHiddenSize;

    @Option(names = "--prefix-projection", description = "Prefix tuning: train a tanh MLP that produces the prefix "
            + "(PEFT's prefix_projection) instead of the prefix itself.")
    boolean prefixProjection;

    @Option(names = "--encoder-num-layers", description = "P-tuning with --encoder-type lstm: LSTM layers (default 2).")
    Integer encoderNumLayers;

    @Option(names = "--encoder-dropout", description = "P-tuning with --encoder-type lstm: dropout between LSTM layers "
            + "(default 0).")
    Double encoderDropout;

    @Mixin
    ModelOptions model;

    @Mixin
    DatasetOptions dataset;

    @Option(names = "--eval-data", description = "Held-out data evaluated during and after training.")
    Path evalData;

    @Mixin
    TemplateOptions format;

    @Option(names = "--output", required = true, description = "Folder for the adapter, checkpoints and metrics.")
    Path output;

    @Mixin
    LoraOptions lora;

    @Mixin
    PreferenceOptions preference;

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

    @Option(names = "--seed", defaultValue = "42", description = "Seed of adapter init, data order and dropout.")
    long seed;

    @Option(names = "--eval-every", defaultValue = "0", description = "Evaluate every N steps (0: at the end).")
    int evalEvery;

    @Option(names = "--checkpoint-every", defaultValue = "50", description = "Resumable checkpoint every N steps.")
    int checkpointEvery;

    @Option(names = "--gradient-checkpointing",
            description = "Recompute each decoder layer in backward: less activation memory, ~1 more forward of time.")
    boolean gradientCheckpointing;

    @Option(names = "--selective-checkpointing", description = "Activation checkpointing that also keeps each "
            + "layer's frozen gate, up and down outputs: less recompute, 2 x intermediate_size + hidden_size floats "
            + "per token per layer more memory (implies --gradient-checkpointing).")
    boolean selectiveCheckpointing;

    @Option(names = "--packing", description = "Pack training examples into rows of --max-seq-len tokens "
            + "(no attention or loss across examples).")
    boolean packing;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in --output.")
    boolean resume;

    @Option(names = "--overwrite", description = "Start a new run in a non-empty --output: its checkpoints and "
            + "metrics.jsonl are deleted, its adapter is replaced when training ends.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        PromptTuningOptions.Encoder encoder = new PromptTuningOptions.Encoder(encoderType, encoderHiddenSize,
                encoderNumLayers, encoderDropout);
        PromptTuningOptions.Method adapterMethod = PromptTuningOptions.check(method, numVirtualTokens, promptInit,
                promptInitText, encoder, prefixProjection);
        long start = System.nanoTime();
        model.refuseAdapter("finetune", "it trains a new adapter (continue an interrupted run with --resume)");
        LoraConfig lora = loraConfig(); // bad --r/--alpha/--dropout fail before the model loads
        try (OutputLock lock = OutputGuard.trainingFolder(output, resume, overwrite);
             Peft4jModel loaded = model.load(out, "finetune")) {
            Checkpoint ckpt = loaded.checkpoint();
            PeftModel peft = loaded.peft();
            if (preference.isPreference() && packing) {
                throw new IllegalArgumentException("--packing works with --objective sft only");
            }
            preference.objective();   // bad --objective/--beta fail before reading the data
            List<Example> train = preference.isPreference() ? preference.rows(dataset.data, ckpt, format.template,
                    templateName(ckpt), dataset.maxSeqLen, out) : examples(dataset.data, ckpt, packing);
            String dataSha256 = Provenance.sha256(dataset.data);   // of the file as read, before a long run
            List<Example> eval = evalData == null ? List.of() : preference.isPreference() ? preference.rows(evalData,
                    ckpt, format.template, templateName(ckpt), dataset.maxSeqLen, out) : examples(evalData, ckpt, false);
            peft.addAdapter(PeftModel.DEFAULT, adapterMethod.isSoftPrompt() ? PromptTuningOptions.config(adapterMethod,
                    numVirtualTokens, promptInit, promptInitText, encoder, prefixProjection, dataset.maxSeqLen,
                    model.model.toString(), ckpt) : lora, seed);
            out.status("finetune: " + peft.trainableParameters());
            TrainerConfig cfg = TrainerConfig.builder().optLearningRate(lr).optSchedule(LrSchedule.parse(schedule))
                    .optWarmupSteps(warmup).optMaxSteps(maxSteps).optEpochs(epochs).optBatchSize(batchSize)
                    .optGradAccum(gradAccum).optSeed(seed).optEvalEvery(evalEvery)
                    .optCheckpointEvery(checkpointEvery).optOutputDir(output)
                    .optActivationCheckpointing(gradientCheckpointing)
                    .optSelectiveCheckpointing(selectiveCheckpointing)
                    .optPadTokenId(Math.max(0, ckpt.tokenizer().padTokenId())).build();
            Path last = resume ? resumeFrom(cfg.totalSteps(train.size())) : null;
            if (overwrite) {
                PreviousRun.delete(output);
            }
            TrainingResult result;
            Map<String, Double> evalMetrics = new LinkedHashMap<>();
            try (Trainer trainer = new Trainer(peft, cfg, preference.objective())) {
                trainer.addListener(TrainingProgress.listener(out));
                trainer.addListener(preference.recorder());
                trainer.addListener(new io.peft4j.core.train.TrainingListener() {
                    @Override
                    public void onEval(io.peft4j.core.train.EvalMetrics m) {
                        evalMetrics.clear();
                        evalMetrics.putAll(m.metrics());
                    }
                });
                result = last != null ? trainer.resume(last, train, eval) : trainer.train(train, eval);
            }
            Provenance provenance = Provenance.of(method.toLowerCase(Locale.ROOT), seed, result.steps(),
                    dataSha256, templateName(ckpt));
            peft.save(output, provenance);
            out.status("finetune: adapter saved to " + output);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("steps", result.steps());
            r.put("train_loss", round(result.trainLoss()));
            r.put("eval_loss", Double.isNaN(result.evalLoss()) ? null : round(result.evalLoss()));
            r.put("adapter_dir", output.toAbsolutePath().toString());
            r.put("tokens_per_s", Math.round(result.tokensPerSecond() * 10) / 10.0);
            r.put("peak_rss_mb", ProcessMemory.peakRssBytes().isPresent()
                    ? ProcessMemory.peakRssBytes().getAsLong() / (1024 * 1024) : null);
            r.put("allocator", ProcessMemory.allocator());
            r.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            if (preference.isPreference()) {
                preference.putRewards(r, evalMetrics);
            }
            out.print(r);
        }
        return 0;
    }

    /** The checkpoint to resume; refuses a run with nothing left to train. */
    private Path resumeFrom(int totalSteps) throws Exception {
        Path last = Trainer.latestCheckpoint(output);
        if (last == null) {
            throw new IllegalArgumentException("--resume: no checkpoint-N folder in " + output);
        }
        int at = Trainer.checkpointStep(last);
        if (at >= totalSteps) {
            throw new IllegalArgumentException("--resume: nothing to train: " + last.getFileName() + " is at step " + at
                    + " and --max-steps/--epochs end at step " + totalSteps + " (raise --max-steps to train on)");
        }
        return last;
    }

    private LoraConfig loraConfig() {
        return lora.builder().optBaseModelNameOrPath(model.model.toString()).build();
    }

    private List<Example> examples(Path file, Checkpoint ckpt, boolean pack) throws Exception {
        ContextWindowException.check(ckpt.config(), dataset.maxSeqLen, "--max-seq-len");
        Dataset d = DatasetReader.builder().setPath(file).optFieldNames(format.fieldNames()).build().readAll();
        Tokenizer tok = ckpt.tokenizer();
        String name = templateName(ckpt);
        EncodedDataset enc = ExampleEncoder.builder().setTokenizer(tok)
                .setTemplate(ChatTemplate.resolve(name, ckpt.chatTemplate(), tok)).optMaxSeqLen(dataset.maxSeqLen).build()
                .encodeAll(d.records());
        List<Example> out2 = pack ? enc.packedForTrainer(dataset.maxSeqLen, Math.max(0, tok.padTokenId())) : enc.forTrainer();
        if (out2.isEmpty()) {
            throw new IllegalArgumentException(file + ": no usable examples (" + d.badRecords() + " bad records)");
        }
        out.status("finetune: " + out2.size() + (pack ? " packed rows" : " examples") + " from " + file + " (template " + name + ")");
        return out2;
    }

    /** {@code --template}, else {@code chat} when the model has its own template, else {@code alpaca}. */
    private String templateName(Checkpoint ckpt) {
        return format.template != null ? format.template : ckpt.chatTemplate().isPresent() ? "chat" : "alpaca";
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
