package io.peft4j.bench;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.train.CrossEntropyObjective;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingObjective;
import io.peft4j.core.train.preference.PreferenceConfig;
import io.peft4j.core.train.preference.PreferenceObjective;
import io.peft4j.lora.LoraConfig;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * DPO against supervised fine-tuning on the same batch of sequences, in ONE process and on the same adapter:
 * {@code batch} rows of {@code seq} random tokens form {@code batch / 2} pairs (a shared first half as the prompt,
 * different second halves as the chosen and rejected answers; only answer tokens are trained), and SFT trains the
 * same rows with the same labels. Optimizer steps alternate between the two (so machine load hits both alike) and
 * the median step times are compared. DPO's reference is the same base with the adapter off, computed inside each
 * step (trl's default, no precomputed log-probs), so DPO does one extra no-gradient forward per step and holds no
 * second model. Peak RSS of each is read over its first step with the peak reset just before it, SFT first: memory
 * the allocator keeps from the SFT step can only raise DPO's reading, never lower it. Used by
 * {@code peft4j bench train --objective dpo} through {@link #report}.
 *
 * <pre>{@code
 * PreferenceBenchmark.Result r = PreferenceBenchmark.run(model, loraConfig, 4, 256, 3);
 * double memoryRatio = (double) r.dpoPeakRssBytes() / r.sftPeakRssBytes();
 * }</pre>
 */
public final class PreferenceBenchmark {
    private PreferenceBenchmark() {
    }

    /**
     * @param sftStepSeconds  median SFT step time
     * @param dpoStepSeconds  median DPO step time
     * @param sftPeakRssBytes process peak RSS over the first SFT step (-1 if unknown)
     * @param dpoPeakRssBytes process peak RSS over the first DPO step (-1 if unknown)
     */
    public record Result(double sftStepSeconds, double dpoStepSeconds, long sftPeakRssBytes, long dpoPeakRssBytes) {
    }

    /**
     * {@code peft4j bench train --objective dpo}: loads {@code model}, runs {@link #run} and returns the
     * {@code --json} keys ({@code name} is {@code train_dpo}).
     */
    public static Map<String, Object> report(Path model, LoraConfig config, int batch, int seq, int steps,
                                             Consumer<String> status) throws PeftException, NoSuchFileException {
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train_dpo");
        try (BenchModel base = BenchModel.open(model)) {
            status.accept("bench train: peft4j LoRA r=" + config.r() + " "
                    + TrainBenchmark.describe(config.targetModules()) + ", " + batch / 2 + " pairs (" + batch
                    + " rows) of " + seq + " tokens, steps alternating SFT / DPO ...");
            Result r = run(base.model(), config, batch, seq, steps);
            res.put("batch", batch);
            res.put("seq", seq);
            res.put("r", config.r());
            res.put("step_s_sft", round(r.sftStepSeconds()));
            res.put("step_s_dpo", round(r.dpoStepSeconds()));
            res.put("ratio_step_time_dpo_sft", round(r.dpoStepSeconds() / r.sftStepSeconds()));
            res.put("peak_rss_mb_sft", r.sftPeakRssBytes() < 0 ? null : r.sftPeakRssBytes() >> 20);
            res.put("peak_rss_mb_dpo", r.dpoPeakRssBytes() < 0 ? null : r.dpoPeakRssBytes() >> 20);
            res.put("ratio_peak_rss_dpo_sft", r.sftPeakRssBytes() <= 0 || r.dpoPeakRssBytes() < 0 ? null
                    : round((double) r.dpoPeakRssBytes() / r.sftPeakRssBytes()));
        }
        return res;
    }

    /**
     * Attaches {@code config}, runs {@code steps + 1} steps of each objective (the first is the warm-up), alternating,
     * and detaches it; {@code batch} must be even.
     */
    public static Result run(CausalLM model, LoraConfig config, int batch, int seq, int steps) throws PeftException {
        if (batch < 2 || batch % 2 != 0 || seq < 4 || steps < 1) {
            throw new IllegalArgumentException("DPO bench needs an even batch >= 2 (rows: chosen and rejected), seq"
                    + " >= 4 and steps >= 1: batch " + batch + ", seq " + seq + ", steps " + steps);
        }
        List<Example> rows = pairRows(model, batch, seq);
        TrainingObjective[] objectives = {CrossEntropyObjective.INSTANCE,
            PreferenceObjective.of(PreferenceConfig.builder().optBeta(0.1).build())};
        AlternatingSteps.Result r;
        try (PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, config, 1L);
            r = AlternatingSteps.run(steps, new int[] {0, 1}, o -> {        // SFT first
                // a preference item is a pair of rows: half as many items make the same rows
                TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(1).optBatchSize(o == 0 ? batch : batch / 2)
                        .optShuffle(false).optLearningRate(1e-4).build();
                try (Trainer t = new Trainer(peft, cfg, objectives[o])) {
                    return t.train(rows, null).seconds();
                }
            });
        }
        return new Result(r.medianSeconds()[0], r.medianSeconds()[1], r.peakRssBytes()[0], r.peakRssBytes()[1]);
    }

    /** {@code batch / 2} seeded random pairs of rows: a shared prompt half (not trained), then different answers. */
    static List<Example> pairRows(CausalLM model, int batch, int seq) {
        Random rng = new Random(1);
        int vocab = model.config().vocabSize();
        int promptLen = seq / 2;
        List<Example> rows = new ArrayList<>();
        for (int p = 0; p < batch / 2; p++) {
            int[] prompt = rng.ints(promptLen, 0, vocab).toArray();
            for (int side = 0; side < 2; side++) {
                int[] ids = new int[seq];
                System.arraycopy(prompt, 0, ids, 0, promptLen);
                int[] labels = new int[seq];
                for (int t = 0; t < seq; t++) {
                    if (t >= promptLen) {
                        ids[t] = rng.nextInt(vocab);
                    }
                    labels[t] = t < promptLen ? Example.IGNORE : ids[t];
                }
                rows.add(new Example(ids, labels));
            }
        }
        return rows;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
