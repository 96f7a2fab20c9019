package io.peft4j.core.train;

import java.nio.file.Path;

/**
 * Settings of a {@link Trainer} run. Build with {@link #builder()}; every setting has a default except the length
 * of the run ({@code maxSteps} or {@code epochs}).
 *
 * <pre>{@code
 * TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(60).optLearningRate(2e-4).optBatchSize(4)
 *         .optSchedule(LrSchedule.COSINE).optWarmupSteps(5).optOutputDir(out).build();
 * }</pre>
 *
 * @param learningRate    peak learning rate
 * @param weightDecay     AdamW decoupled weight decay
 * @param beta1           AdamW β1
 * @param beta2           AdamW β2
 * @param eps             AdamW ε
 * @param schedule        learning-rate schedule after warmup
 * @param warmupSteps     linear warmup steps
 * @param maxSteps        optimizer steps; 0 means derive from {@code epochs}
 * @param epochs          passes over the data when {@code maxSteps} is 0
 * @param batchSize       examples per micro-batch
 * @param gradAccum       micro-batches per optimizer step
 * @param maxGradNorm     global gradient-norm clip; 0 disables clipping
 * @param evalEvery       evaluate every N steps (and at the end); 0 only at the end
 * @param checkpointEvery write a resumable checkpoint every N steps; 0 never (needs {@code outputDir})
 * @param keepCheckpoints how many checkpoints to keep
 * @param logEvery        progress/metrics every N steps
 * @param seed            seeds data order, adapter dropout and nothing else: same seed, same run
 * @param padTokenId      id used to right-pad micro-batches (masked out)
 * @param shuffle         shuffle examples per epoch
 * @param outputDir       folder for checkpoints and {@code metrics.jsonl}, or null
 * @param activationCheckpointing keep only each decoder layer's input during the forward and recompute the
 *                        layer in backward ("gradient checkpointing"): less activation memory, about one more
 *                        forward of time; same loss and gradients
 * @param selectiveCheckpointing with {@code activationCheckpointing}, also keep each layer's frozen gate, up and
 *                        down outputs and recompute only the rest ({@link io.peft4j.core.model.SelectiveCheckpointing}):
 *                        {@code 2 × intermediate_size + hidden_size} floats per token per layer more, the MLP's
 *                        matrix products saved
 *
 * @since 0.1.0
 */
public record TrainerConfig(double learningRate, double weightDecay, double beta1, double beta2, double eps,
                            LrSchedule schedule, int warmupSteps, int maxSteps, int epochs, int batchSize,
                            int gradAccum, double maxGradNorm, int evalEvery, int checkpointEvery,
                            int keepCheckpoints, int logEvery, long seed, int padTokenId, boolean shuffle,
                            Path outputDir, boolean activationCheckpointing, boolean selectiveCheckpointing) {

    public TrainerConfig {
        require(learningRate > 0, "learning_rate", learningRate);
        require(weightDecay >= 0, "weight_decay", weightDecay);
        require(warmupSteps >= 0, "warmup_steps", warmupSteps);
        require(maxSteps >= 0 && epochs >= 0 && (maxSteps > 0 || epochs > 0), "max_steps/epochs",
                maxSteps + "/" + epochs);
        require(batchSize > 0, "batch_size", batchSize);
        require(gradAccum > 0, "grad_accum", gradAccum);
        require(maxGradNorm >= 0, "max_grad_norm", maxGradNorm);
        require(evalEvery >= 0, "eval_every", evalEvery);
        require(checkpointEvery >= 0, "checkpoint_every", checkpointEvery);
        require(checkpointEvery == 0 || outputDir != null, "checkpoint_every needs an output dir", checkpointEvery);
        require(keepCheckpoints > 0, "keep_checkpoints", keepCheckpoints);
        require(logEvery > 0, "log_every", logEvery);
        require(!selectiveCheckpointing || activationCheckpointing, "selective checkpointing needs activation "
                + "checkpointing", selectiveCheckpointing);
        if (schedule == null) {
            schedule = LrSchedule.LINEAR;
        }
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid trainer setting: " + field + " = " + value);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Optimizer steps for {@code examples} training examples. */
    public int totalSteps(int examples) {
        if (maxSteps > 0) {
            return maxSteps;
        }
        int perEpoch = Math.max(1, examples / Math.min(batchSize, examples) / gradAccum);
        return perEpoch * epochs;
    }

    /** Builder with Hugging Face-like defaults (lr 2e-4, linear schedule, batch 4, clip 1.0, seed 42). */
    public static final class Builder {
        private double lr = 2e-4;
        private double wd;
        private double b1 = 0.9;
        private double b2 = 0.999;
        private double eps = 1e-8;
        private LrSchedule schedule = LrSchedule.LINEAR;
        private int warmup;
        private int maxSteps;
        private int epochs;
        private int batch = 4;
        private int accum = 1;
        private double clip = 1.0;
        private int evalEvery;
        private int ckptEvery;
        private int keep = 2;
        private int logEvery = 10;
        private long seed = 42;
        private int pad;
        private boolean shuffle = true;
        private Path out;
        private boolean checkpointActivations;
        private boolean selective;

        public Builder optLearningRate(double v) { lr = v; return this; }
        public Builder optWeightDecay(double v) { wd = v; return this; }
        public Builder optBetas(double beta1, double beta2) { b1 = beta1; b2 = beta2; return this; }
        public Builder optEps(double v) { eps = v; return this; }
        public Builder optSchedule(LrSchedule v) { schedule = v; return this; }
        public Builder optWarmupSteps(int v) { warmup = v; return this; }
        public Builder optMaxSteps(int v) { maxSteps = v; return this; }
        public Builder optEpochs(int v) { epochs = v; return this; }
        public Builder optBatchSize(int v) { batch = v; return this; }
        public Builder optGradAccum(int v) { accum = v; return this; }
        public Builder optMaxGradNorm(double v) { clip = v; return this; }
        public Builder optEvalEvery(int v) { evalEvery = v; return this; }
        public Builder optCheckpointEvery(int v) { ckptEvery = v; return this; }
        public Builder optKeepCheckpoints(int v) { keep = v; return this; }
        public Builder optLogEvery(int v) { logEvery = v; return this; }
        public Builder optSeed(long v) { seed = v; return this; }
        public Builder optPadTokenId(int v) { pad = v; return this; }
        public Builder optShuffle(boolean v) { shuffle = v; return this; }
        public Builder optOutputDir(Path v) { out = v; return this; }
        public Builder optActivationCheckpointing(boolean v) { checkpointActivations = v; return this; }
        /** Selective activation checkpointing; {@code true} also turns activation checkpointing on. */
        public Builder optSelectiveCheckpointing(boolean v) {
            selective = v;
            checkpointActivations |= v;
            return this;
        }

        public TrainerConfig build() {
            return new TrainerConfig(lr, wd, b1, b2, eps, schedule, warmup, maxSteps, epochs, batch, accum, clip,
                    evalEvery, ckptEvery, keep, logEvery, seed, pad, shuffle, out, checkpointActivations, selective);
        }
    }
}
