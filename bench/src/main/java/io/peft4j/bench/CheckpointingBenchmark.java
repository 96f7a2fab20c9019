package io.peft4j.bench;

import io.peft4j.core.PeftException;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.lora.LoraConfig;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Activation checkpointing against ordinary training in ONE process on the same adapter: optimizer steps
 * alternate between the two modes (so machine load hits both alike) and the median step times are compared; peak
 * RSS of each mode is read after its first step with the peak reset just before it (checkpointed first, so memory
 * the allocator keeps from the larger ordinary step cannot inflate it). Used by
 * {@code peft4j bench train --compare-checkpointing} through {@link #report}.
 *
 * <pre>{@code
 * CheckpointingBenchmark.Result r = CheckpointingBenchmark.run(model, loraConfig, 4, 256, 3);
 * double slowdown = r.checkpointedStepSeconds() / r.stepSeconds();
 * }</pre>
 */
public final class CheckpointingBenchmark {
    private CheckpointingBenchmark() {
    }

    /**
     * @param stepSeconds             median step time without checkpointing
     * @param checkpointedStepSeconds median step time with checkpointing
     * @param peakRssBytes            process peak RSS over the first ordinary step (-1 if unknown)
     * @param checkpointedPeakRssBytes process peak RSS over the first checkpointed step (-1 if unknown)
     */
    public record Result(double stepSeconds, double checkpointedStepSeconds, long peakRssBytes,
                         long checkpointedPeakRssBytes) {
    }

    /**
     * {@code peft4j bench train --compare-checkpointing}: loads {@code model}, runs {@link #run} and returns the
     * {@code --json} keys ({@code name} is {@code train_checkpointing}).
     */
    public static Map<String, Object> report(Path model, LoraConfig config, int batch, int seq, int steps,
                                             boolean selective, Consumer<String> status)
            throws PeftException, NoSuchFileException {
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train_checkpointing");
        try (BenchModel base = BenchModel.open(model)) {
            status.accept("bench train: peft4j LoRA r=" + config.r() + " "
                    + TrainBenchmark.describe(config.targetModules()) + ", batch " + batch + ", seq " + seq
                    + ", steps alternating with/without " + (selective ? "selective " : "")
                    + "activation checkpointing ...");
            Result b = run(base.model(), config, batch, seq, steps, selective);
            res.put("batch", batch);
            res.put("seq", seq);
            res.put("r", config.r());
            res.put("selective_checkpointing", selective);
            res.put("step_s", round(b.stepSeconds()));
            res.put("step_s_checkpointing", round(b.checkpointedStepSeconds()));
            res.put("ratio_step_time_checkpointing", round(b.checkpointedStepSeconds() / b.stepSeconds()));
            res.put("peak_rss_mb", b.peakRssBytes() < 0 ? null : b.peakRssBytes() >> 20);
            res.put("peak_rss_mb_checkpointing", b.checkpointedPeakRssBytes() < 0 ? null
                    : b.checkpointedPeakRssBytes() >> 20);
            res.put("allocator", ProcessMemory.allocator());
        }
        return res;
    }

    /** Attaches {@code config}, runs {@code steps + 1} steps per mode (the first is the warm-up), detaches it. */
    public static Result run(CausalLM model, LoraConfig config, int batch, int seq, int steps, boolean selective)
            throws PeftException {
        List<Example> data = TrainBenchmark.randomData(model, batch, seq);
        AlternatingSteps.Result r;
        try (PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, config, 1L);
            // mode 1 (checkpointed) first: memory the larger ordinary step leaves cannot inflate its peak
            r = AlternatingSteps.run(steps, new int[] {1, 0}, mode -> oneStep(peft, data, batch, mode == 1, selective));
        }
        return new Result(r.medianSeconds()[0], r.medianSeconds()[1], r.peakRssBytes()[0], r.peakRssBytes()[1]);
    }

    private static double oneStep(PeftModel peft, List<Example> data, int batch, boolean checkpoint,
                                  boolean selective) throws PeftException {
        TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(1).optBatchSize(batch).optShuffle(false)
                .optLearningRate(1e-4).optActivationCheckpointing(checkpoint)
                .optSelectiveCheckpointing(checkpoint && selective).build();
        try (Trainer t = new Trainer(peft, cfg)) {
            return t.train(data, null).seconds();
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
