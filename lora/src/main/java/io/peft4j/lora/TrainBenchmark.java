package io.peft4j.lora;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.ForwardBenchmark;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * LoRA training throughput on random tokens: median optimizer-step time over {@code steps} timed steps (after one
 * warm-up), tokens/s, and model FLOPs utilisation against the fp32 GEMM peak measured in the same run. Training
 * FLOPs are counted as 2 × forward (the forward plus the activation gradients; LoRA's own weight gradients are
 * negligible), as is usual for frozen-base fine-tuning. Used by {@code peft4j bench train}.
 *
 * <pre>{@code
 * TrainBenchmark.Result r = TrainBenchmark.run(model, LoraConfig.builder().optR(16)
 *         .optTargetModules(TargetModules.ALL_LINEAR).build(), 4, 256, 3, false);
 * double mfu = r.mfu();
 * }</pre>
 */
public final class TrainBenchmark {
    private TrainBenchmark() {
    }

    /**
     * @param stepSeconds  median seconds per optimizer step
     * @param tokensPerS   batch × seq / stepSeconds
     * @param gflopPerStep counted training GFLOP of one step
     * @param matmulGflops fp32 GEMM GFLOP/s of this machine, same run (the higher of a reading before and after)
     * @param mfu          gflopPerStep / stepSeconds / matmulGflops
     * @param trainable    trainable parameters
     */
    public record Result(double stepSeconds, double tokensPerS, double gflopPerStep, double matmulGflops, double mfu,
                         long trainable) {
    }

    /**
     * Attaches {@code config} to {@code model}, trains {@code steps + 1} steps of [batch, seq] (with activation
     * checkpointing when {@code checkpointActivations}) and detaches it.
     */
    public static Result run(CausalLM model, LoraConfig config, int batch, int seq, int steps,
                             boolean checkpointActivations) throws PeftException {
        double matmulBefore = ForwardBenchmark.matmulGflops(model.manager(), 3);
        List<Example> data = randomData(model, batch * (steps + 1), seq);
        double[] times = new double[steps + 1];
        long trainable;
        try (PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, config, 1L);
            trainable = peft.trainableParameterCount();
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(steps + 1).optBatchSize(batch)
                    .optShuffle(false).optLearningRate(1e-4).optActivationCheckpointing(checkpointActivations).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.addListener(new TrainingListener() {
                    private double last;

                    @Override
                    public void onStep(StepMetrics m) {
                        times[m.step() - 1] = m.elapsedSeconds() - last;
                        last = m.elapsedSeconds();
                    }
                });
                t.train(data, null);
            }
        }
        double[] timed = Arrays.copyOfRange(times, 1, times.length);
        Arrays.sort(timed);
        double step = timed[timed.length / 2];
        // the GEMM peak is read before and after training and the higher reading kept: one reading taken right after
        // the model load once came out at 68 instead of ~160 GFLOP/s and made the MFU exceed 1
        double matmul = Math.max(matmulBefore, ForwardBenchmark.matmulGflops(model.manager(), 3));
        double gflop = 2 * ForwardBenchmark.forwardFlops(model.config(), batch, seq) / 1e9;
        return new Result(step, batch * seq / step, gflop, matmul, gflop / step / matmul, trainable);
    }

    /** {@code n} seeded random sequences of {@code seq} token ids, every token trained. */
    static List<Example> randomData(CausalLM model, int n, int seq) {
        Random rng = new Random(1);
        List<Example> data = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ids = new int[seq];
            for (int t = 0; t < seq; t++) {
                ids[t] = rng.nextInt(model.config().vocabSize());
            }
            data.add(Example.unmasked(ids));
        }
        return data;
    }
}
