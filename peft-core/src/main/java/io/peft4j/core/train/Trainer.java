package io.peft4j.core.train;

import io.peft4j.core.internal.GradMode;
import io.peft4j.core.train.internal.BatchOrder;
import io.peft4j.core.train.internal.RngSeeds;
import io.peft4j.core.train.internal.TrainerCheckpoint;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.SelectiveCheckpointing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains the active adapters of a {@link PeftModel} on causal-LM examples: next-token cross-entropy over
 * label-masked tokens, {@link AdamW} over the trainable arrays only, warmup + {@link LrSchedule}, gradient
 * accumulation (the loss is normalised by the trained tokens of the whole accumulated batch, so accumulating
 * 2 × batch b equals one batch of 2b), global-norm clipping, evaluation, resumable checkpoints and
 * {@link TrainingListener}s. Every step runs in its own {@code NDScope} with one {@code GradientCollector} per
 * micro-batch ({@link PeftModel#backward}); gradients are zeroed in place. With
 * {@link TrainerConfig#activationCheckpointing()} each decoder layer is recomputed in backward instead of keeping its
 * activations (same loss and gradients, less memory). Deterministic: data order and dropout derive from the seed,
 * the step, the micro-batch and the layer only, so a resumed run repeats the uninterrupted loss curve. One thread;
 * close to free optimizer state. Rows may be packed ({@link Example#isPacked()}): each packed sequence then
 * attends only to itself, restarts its positions and is not trained to predict the next one, so a packed row
 * gives the loss and gradients of its sequences run alone. After a divergence the gradients are reset, so
 * {@link #resume} can continue in the same process.
 *
 * <pre>{@code
 * try (Trainer trainer = new Trainer(peft, TrainerConfig.builder().optMaxSteps(60).build())) {
 *     trainer.addListener(new ProgressPrinter(System.err, 10));
 *     TrainingResult result = trainer.train(trainExamples, evalExamples);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class Trainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    private static final NDIndex ALL = new NDIndex("...");

    private final PeftModel peft;
    private final TrainerConfig cfg;
    private final TrainingObjective objective;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private final NDManager manager;
    private List<NDArray> params;
    private AdamW optimizer;
    private int step;
    private Path lastCheckpoint;
    private volatile boolean stopRequested;
    private boolean inTraining;

    public Trainer(PeftModel peft, TrainerConfig config) {
        this(peft, config, CrossEntropyObjective.INSTANCE);
    }

    /**
     * A trainer minimising {@code objective} (e.g. a preference objective; rows then come in items of
     * {@link TrainingObjective#rowsPerItem()} consecutive rows and {@link TrainerConfig#batchSize()} counts items).
     */
    public Trainer(PeftModel peft, TrainerConfig config, TrainingObjective objective) {
        this.peft = peft;
        this.cfg = config;
        this.objective = java.util.Objects.requireNonNull(objective, "objective");
        this.manager = peft.base().manager().newSubManager();
        if (config.outputDir() != null) {
            listeners.add(new MetricsJsonlWriter(config.outputDir().resolve("metrics.jsonl")));
        }
    }

    public Trainer addListener(TrainingListener listener) {
        listeners.add(listener);
        return this;
    }

    /** Optimizer steps done so far (restored by {@link #resume}). */
    public int step() {
        return step;
    }

    /** Asks the run to stop after the current step (e.g. from a listener); the next {@link #train} continues. */
    public void requestStop() {
        stopRequested = true;
    }

    /** The newest complete checkpoint under {@code outputDir}, or null. */
    public static Path latestCheckpoint(Path outputDir) {
        return TrainerCheckpoint.latest(outputDir);
    }

    /** The optimizer step a checkpoint folder was written at. */
    public static int checkpointStep(Path checkpointDir) throws PeftException {
        return TrainerCheckpoint.step(checkpointDir);
    }

    /**
     * Restores adapter weights, optimizer moments, step and RNG position from {@code checkpointDir}, then trains to
     * the end of the schedule.
     *
     * @throws IllegalArgumentException if the checkpoint is already at or past the schedule's last step (nothing
     *                                  would be trained)
     */
    public TrainingResult resume(Path checkpointDir, List<Example> train, List<Example> eval) throws PeftException {
        int at = checkpointStep(checkpointDir);
        int total = cfg.totalSteps(train.size());
        if (at >= total) {
            throw new IllegalArgumentException(checkpointDir + " is at step " + at + " and the schedule ends at step "
                    + total + ": nothing to train");
        }
        ensureOptimizer();
        step = TrainerCheckpoint.load(checkpointDir, peft, optimizer, params, cfg);
        lastCheckpoint = checkpointDir;
        LOG.info("resumed from {} at step {}", checkpointDir, step);
        return train(train, eval);
    }

    /** Trains until the schedule's last step (or {@link #requestStop()}); evaluates on {@code eval} if non-empty. */
    public TrainingResult train(List<Example> train, List<Example> eval) throws PeftException {
        GradMode.set(false);          // on any thread: gradients are recorded only inside each step's collector
        ensureOptimizer();
        stopRequested = false;
        int per = objective.rowsPerItem();
        int total = cfg.totalSteps(train.size() / per);
        BatchOrder batches = new BatchOrder(train, cfg.batchSize(), cfg.seed(), cfg.shuffle(), cfg.padTokenId(), per);
        objective.prepare(peft, train, cfg.batchSize(), cfg.padTokenId(), manager);
        List<Double> losses = new ArrayList<>();
        double evalLoss = Double.NaN;
        long tokens = 0;
        long t0 = System.nanoTime();
        peft.setTraining(true);
        inTraining = true;
        try {
            while (step < total && !stopRequested) {
                double lr = cfg.schedule().learningRate(cfg.learningRate(), step, cfg.warmupSteps(), total);
                StepOutcome out = runStep(batches, lr);
                step++;
                losses.add(out.loss());
                tokens += out.tokens();
                double secs = (System.nanoTime() - t0) / 1e9;
                if (cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0) {
                    checkpoint();
                }
                StepMetrics m = StepMetrics.builder().setStep(step, total).setLoss(out.loss()).setLearningRate(lr)
                        .setGradNorm(out.gradNorm()).setTokens(out.tokens()).optTokensPerSecond(tokens / secs)
                        .optElapsedSeconds(secs).optEtaSeconds(secs / losses.size() * (total - step))
                        .optMetrics(out.metrics()).build();
                listeners.forEach(l -> l.onStep(m));
                boolean due = cfg.evalEvery() > 0 && step % cfg.evalEvery() == 0;
                if (eval != null && !eval.isEmpty() && (due || step == total)) {
                    evalLoss = evaluate(eval).loss();
                }
            }
        } finally {
            inTraining = false;
            peft.setTraining(false);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        TrainingResult r = new TrainingResult(step, windowMean(losses), evalLoss, losses, tokens / secs, secs);
        listeners.forEach(l -> l.onEnd(r));
        return r;
    }

    private double windowMean(List<Double> losses) {
        int n = Math.min(losses.size(), cfg.logEvery());
        return n == 0 ? Double.NaN : losses.subList(losses.size() - n, losses.size()).stream()
                .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private void ensureOptimizer() {
        if (optimizer == null) {
            params = peft.trainableArrays();
            if (params.isEmpty()) {
                throw new IllegalStateException("no trainable parameters: add and activate an adapter first");
            }
            optimizer = new AdamW(params, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), manager);
        }
    }

    /** What one optimizer step measured: summed normalised loss, gradient norm before clipping, real tokens. */
    private record StepOutcome(double loss, double gradNorm, long tokens, java.util.Map<String, Double> metrics) {
    }

    /** One optimizer step over {@code gradAccum} micro-batches. */
    private StepOutcome runStep(BatchOrder batches, double lr) throws TrainingDivergedException {
        List<List<Example>> micro = new ArrayList<>();
        for (int i = 0; i < cfg.gradAccum(); i++) {
            micro.add(batches.rows((long) step * cfg.gradAccum() + i));
        }
        double lossSum = 0;
        long realTokens = 0;
        try (NDScope scope = new NDScope()) {
            TrainingObjective.Step s = objective.begin(peft, micro, cfg.padTokenId(), manager);
            for (int i = 0; i < micro.size(); i++) {
                TrainingBatch b = s.batch(i);
                java.util.function.Function<NDArray, NDArray> loss = s.lossOf(i);
                long seed = RngSeeds.microBatch(cfg.seed(), step, i);
                lossSum += SelectiveCheckpointing.during(cfg.selectiveCheckpointing(), () -> peft.backward(
                        b.inputIdsArray(manager), b.attentionMaskArray(manager), b.positionIdsArray(manager), loss,
                        cfg.activationCheckpointing(), seed));
                realTokens += b.realTokens();
            }
            List<NDArray> grads = params.stream().map(NDArray::getGradient).toList();
            try {
                double norm = globalNorm(grads);
                if (!Double.isFinite(lossSum) || !Double.isFinite(norm)) {
                    throw new TrainingDivergedException(step + 1, Double.isFinite(lossSum) ? "gradient norm"
                            : "loss", lastCheckpoint);
                }
                if (cfg.maxGradNorm() > 0 && norm > cfg.maxGradNorm()) {
                    double coef = cfg.maxGradNorm() / (norm + 1e-6);       // torch.nn.utils.clip_grad_norm_
                    grads.forEach(g -> g.muli(coef));
                }
                optimizer.step(grads, lr);
                if (!Double.isFinite(paramSum())) {     // an overflowing update: never train on (or save) NaN weights
                    throw new TrainingDivergedException(step + 1, "adapter weights", lastCheckpoint);
                }
                return new StepOutcome(lossSum, norm, realTokens, s.metrics());
            } finally {
                grads.forEach(Trainer::zeroFill);
            }
        }
    }

    /** Sets every element to 0 by assignment: {@code g·0} and {@code g−g} keep NaN/Inf (a poisoned resume). */
    static void zeroFill(NDArray g) {
        g.set(ALL, 0f);
    }

    /** Sum of every trainable value: non-finite iff some weight is NaN/Inf (or all are astronomically large). */
    private double paramSum() {
        return total(params, NDArray::sum);
    }

    private static double globalNorm(List<NDArray> grads) {
        return Math.sqrt(total(grads, g -> g.square().sum()));
    }

    /** {@code perArray} (a scalar per array) summed over {@code arrays}, read back once. */
    private static double total(List<NDArray> arrays, java.util.function.UnaryOperator<NDArray> perArray) {
        NDArray acc = null;
        for (NDArray a : arrays) {
            NDArray s = perArray.apply(a);
            acc = acc == null ? s : acc.add(s);
        }
        return acc.getFloat();
    }

    /**
     * The objective's loss on {@code eval} (no gradients, dropout off; training mode is restored after, also on
     * failure): for SFT the mean token loss and its perplexity, for a preference objective the mean pair loss and
     * trl's metrics ({@link EvalMetrics#metrics()}). Takes unpacked examples only.
     */
    public EvalMetrics evaluate(List<Example> eval) {
        GradMode.set(false);
        int per = objective.rowsPerItem();
        int rows = cfg.batchSize() * per;
        List<List<Example>> micro = new ArrayList<>();
        for (int i = 0; i < eval.size(); i += rows) {
            List<Example> part = eval.subList(i, Math.min(eval.size(), i + rows));
            if (part.stream().anyMatch(Example::isPacked)) {
                throw new IllegalArgumentException("evaluate takes unpacked examples (eval example "
                        + i + ".." + (i + part.size() - 1) + " holds a packed row); pack only the training data");
            }
            micro.add(part);
        }
        double sum = 0;
        long count = 0;
        java.util.Map<String, Double> metrics;
        peft.setTraining(false);
        try (NDScope outer = new NDScope()) {
            TrainingObjective.Step s = objective.begin(peft, micro, cfg.padTokenId(), manager);
            for (int i = 0; i < micro.size(); i++) {
                TrainingBatch b = s.batch(i);
                try (NDScope scope = new NDScope()) {
                    java.util.function.Function<NDArray, NDArray> loss = s.lossOf(i);
                    sum += loss.apply(peft.forward(b.inputIdsArray(manager), b.attentionMaskArray(manager), null))
                            .getFloat();
                }
                count += b.trainedTokens();
            }
            metrics = s.metrics();
        } finally {
            peft.setTraining(inTraining);
        }
        EvalMetrics m = new EvalMetrics(step, sum, objective.tokenLevel() ? Math.exp(sum) : Double.NaN, count,
                metrics);
        listeners.forEach(l -> l.onEval(m));
        return m;
    }

    /** Writes a resumable checkpoint now (needs an output dir) and returns its folder. */
    public Path checkpoint() throws PeftException {
        if (cfg.outputDir() == null) {
            throw new IllegalStateException("checkpoints need TrainerConfig.outputDir");
        }
        ensureOptimizer();
        Path dir = TrainerCheckpoint.save(cfg.outputDir(), step, peft, optimizer, params, cfg);
        lastCheckpoint = dir;
        int s = step;
        listeners.forEach(l -> l.onCheckpoint(s, dir));
        return dir;
    }

    @Override
    public void close() {
        for (TrainingListener l : listeners) {
            if (l instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("closing listener {} failed: {}", l, e.toString());
                }
            }
        }
        manager.close();
    }
}
