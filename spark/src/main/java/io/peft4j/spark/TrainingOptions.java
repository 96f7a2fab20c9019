package io.peft4j.spark;

import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.io.Serializable;

/**
 * How each task's LoRA adapter is trained: the LoRA shape and the trainer settings, with exactly the defaults of
 * {@code peft4j finetune} (r 8, alpha 16, dropout 0.05, {@code q_proj,v_proj}, lr 2e-4 cosine, no warmup, batch 4,
 * grad-accum 1, seed 42, 1 epoch, max sequence 512, template {@code chat} when the model has one else
 * {@code alpaca}), so an adapter trained here is bit-for-bit the one {@code peft4j finetune} trains on the same
 * records. Serializable: it travels to the executors. Immutable; build with {@link #builder()}.
 *
 * <pre>{@code
 * TrainingOptions options = TrainingOptions.builder().optMaxSteps(100).optR(16).build();
 * ManyAdapters job = ManyAdapters.builder().setModelPath(model).setOutputDir(out).optTraining(options).build();
 * }</pre>
 *
 * @param r             LoRA rank
 * @param alpha         LoRA alpha
 * @param dropout       LoRA dropout
 * @param targetModules comma-separated module names, {@code all-linear}, or {@code re:REGEX}
 * @param maxSteps      optimizer steps (0: derive from {@code epochs})
 * @param epochs        passes over the data when {@code maxSteps} is 0
 * @param learningRate  peak learning rate
 * @param schedule      {@code constant}, {@code linear} or {@code cosine}
 * @param warmupSteps   linear warmup steps
 * @param batchSize     examples per micro-batch
 * @param gradAccum     micro-batches per optimizer step
 * @param seed          seed of adapter init, data order and dropout (every task uses the same seed, as separate
 *                      {@code peft4j finetune} runs would)
 * @param maxSeqLen     longest example in tokens (longer ones are truncated)
 * @param template      template name ({@code alpaca}, {@code chatml}, ... or {@code chat}), or {@code null} for
 *                      finetune's default
 *
 * @since 0.1.0
 */
public record TrainingOptions(int r, double alpha, double dropout, String targetModules, int maxSteps, int epochs,
                              double learningRate, String schedule, int warmupSteps, int batchSize, int gradAccum,
                              long seed, int maxSeqLen, String template) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Validates every field now (on the driver), naming the bad one. */
    public TrainingOptions {
        loraBuilder(r, alpha, dropout, targetModules).build();
        trainerBuilder(maxSteps, epochs, learningRate, schedule, warmupSteps, batchSize, gradAccum, seed).build();
        if (maxSeqLen <= 0) {
            throw new IllegalArgumentException("maxSeqLen must be > 0, got " + maxSeqLen);
        }
    }

    /** {@code peft4j finetune}'s defaults. */
    public static TrainingOptions defaults() {
        return builder().build();
    }

    /** A builder starting from {@code peft4j finetune}'s defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The LoRA config of every task's adapter, naming {@code baseModel} as PEFT's {@code base_model_name_or_path}. */
    public LoraConfig loraConfig(String baseModel) {
        return loraBuilder(r, alpha, dropout, targetModules).optBaseModelNameOrPath(baseModel).build();
    }

    /** The trainer settings (no checkpoints, no output folder) with the tokenizer's pad id. */
    public TrainerConfig trainerConfig(int padTokenId) {
        return trainerBuilder(maxSteps, epochs, learningRate, schedule, warmupSteps, batchSize, gradAccum, seed)
                .optPadTokenId(Math.max(0, padTokenId)).build();
    }

    private static LoraConfig.Builder loraBuilder(int r, double alpha, double dropout, String targets) {
        return LoraConfig.builder().optR(r).optLoraAlpha(alpha).optLoraDropout(dropout)
                .optTargetModules(TargetModules.parse(targets));
    }

    private static TrainerConfig.Builder trainerBuilder(int maxSteps, int epochs, double lr, String schedule,
                                                        int warmup, int batchSize, int gradAccum, long seed) {
        return TrainerConfig.builder().optLearningRate(lr).optSchedule(LrSchedule.parse(schedule))
                .optWarmupSteps(warmup).optMaxSteps(maxSteps).optEpochs(epochs).optBatchSize(batchSize)
                .optGradAccum(gradAccum).optSeed(seed).optEvalEvery(0).optCheckpointEvery(0);
    }

    /** Builder of {@link TrainingOptions}; every field starts at {@code peft4j finetune}'s default. */
    public static final class Builder {
        private int r = 8;
        private double alpha = 16;
        private double dropout = 0.05;
        private String targetModules = "q_proj,v_proj";
        private int maxSteps;
        private int epochs = 1;
        private double learningRate = 2e-4;
        private String schedule = "cosine";
        private int warmupSteps;
        private int batchSize = 4;
        private int gradAccum = 1;
        private long seed = 42;
        private int maxSeqLen = 512;
        private String template;

        private Builder() {
        }

        public Builder optR(int v) { r = v; return this; }
        public Builder optAlpha(double v) { alpha = v; return this; }
        public Builder optDropout(double v) { dropout = v; return this; }
        public Builder optTargetModules(String v) { targetModules = v; return this; }
        public Builder optMaxSteps(int v) { maxSteps = v; return this; }
        public Builder optEpochs(int v) { epochs = v; return this; }
        public Builder optLearningRate(double v) { learningRate = v; return this; }
        public Builder optSchedule(String v) { schedule = v; return this; }
        public Builder optWarmupSteps(int v) { warmupSteps = v; return this; }
        public Builder optBatchSize(int v) { batchSize = v; return this; }
        public Builder optGradAccum(int v) { gradAccum = v; return this; }
        public Builder optSeed(long v) { seed = v; return this; }
        public Builder optMaxSeqLen(int v) { maxSeqLen = v; return this; }
        public Builder optTemplate(String v) { template = v; return this; }

        public TrainingOptions build() {
            return new TrainingOptions(r, alpha, dropout, targetModules, maxSteps, epochs, learningRate, schedule,
                    warmupSteps, batchSize, gradAccum, seed, maxSeqLen, template);
        }
    }
}
