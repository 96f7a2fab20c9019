package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingDivergedException;
import io.peft4j.core.train.TrainingListener;
import io.peft4j.core.train.TrainingResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoraTrainingTest {
    static final LoraConfig LORA = LoraConfig.builder().optR(8).optLoraAlpha(16).optLoraDropout(0.1)
            .optTargetModules(TargetModules.ALL_LINEAR).build();
    @TempDir
    Path tmp;

    /** Sequences following a simple rule (next = 3·prev + 1 mod 50) with the first two tokens masked. */
    static List<Example> data(int n, long seed) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 6 + r.nextInt(5);
            int[] ids = new int[len];
            ids[0] = r.nextInt(50);
            for (int t = 1; t < len; t++) {
                ids[t] = (3 * ids[t - 1] + 1) % 50;
            }
            int[] labels = ids.clone();
            labels[0] = Example.IGNORE;
            labels[1] = Example.IGNORE;
            out.add(new Example(ids, labels));
        }
        return out;
    }

    /** A fresh tiny model + LoRA (same seeds every time) handed to {@code body}. */
    interface Body {
        Object run(PeftModel peft) throws Exception;
    }

    static Object withPeft(Body body) throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LORA, 11L);
            return body.run(peft);
        }
    }

    static TrainerConfig.Builder cfg() {
        return TrainerConfig.builder().optLearningRate(5e-3).optBatchSize(4).optMaxSteps(8).optWarmupSteps(2)
                .optSchedule(LrSchedule.COSINE).optSeed(3);
    }

    static float[] flatWeights(PeftModel peft) {
        List<Float> all = new ArrayList<>();
        for (NDArray a : peft.trainableArrays()) {
            for (float f : a.toFloatArray()) {
                all.add(f);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    @Test
    void train_lossFalls_onTinyModel() throws Exception {
        List<Example> train = data(64, 1);
        List<Example> eval = data(16, 2);
        TrainingResult r = (TrainingResult) withPeft(peft -> {
            try (Trainer t = new Trainer(peft, cfg().optMaxSteps(30).optLearningRate(1e-2).optEvalEvery(30).build())) {
                double before = t.evaluate(eval).loss();
                TrainingResult res = t.train(train, eval);
                assertTrue(res.evalLoss() < 0.5 * before, "eval loss " + before + " -> " + res.evalLoss());
                return res;
            }
        });
        double first = r.losses().get(0);
        assertTrue(r.trainLoss() < 0.5 * first, "train loss " + first + " -> " + r.trainLoss());
        assertEquals(30, r.steps());
    }

    @Test
    void train_sameSeed_identicalRun() throws Exception {
        List<Example> train = data(32, 1);
        Object a = withPeft(peft -> new Trainer(peft, cfg().optMaxSteps(4).build()).train(train, null).losses());
        Object b = withPeft(peft -> new Trainer(peft, cfg().optMaxSteps(4).build()).train(train, null).losses());
        assertEquals(a, b);
    }

    @Test
    void gradAccum_twoOfBatchB_equalsOneBatchOf2B() throws Exception {
        List<Example> train = data(32, 5);
        LoraConfig noDropout = LORA.toBuilder().optLoraDropout(0).build();
        float[][] w = new float[2][];
        double[][] losses = new double[2][];
        for (int k = 0; k < 2; k++) {
            int accum = k == 0 ? 2 : 1;
            int batch = k == 0 ? 4 : 8;
            int idx = k;
            try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
                 PeftModel peft = PeftModel.wrap(model)) {
                peft.addAdapter("default", noDropout, 11L);
                TrainerConfig c = cfg().optMaxSteps(3).optBatchSize(batch).optGradAccum(accum).build();
                try (Trainer t = new Trainer(peft, c)) {
                    losses[idx] = t.train(train, null).losses().stream().mapToDouble(Double::doubleValue).toArray();
                }
                w[idx] = flatWeights(peft);
            }
        }
        for (int s = 0; s < 3; s++) {
            assertEquals(losses[0][s], losses[1][s], 1e-5, "loss of step " + s);
        }
        assertEquals(0, TinyModels.maxDiff(w[0], w[1]), 1e-5);
    }

    @Test
    void resume_afterStop_reproducesUninterruptedLossCurve() throws Exception {
        List<Example> train = data(32, 9);
        @SuppressWarnings("unchecked")
        List<Double> full = (List<Double>) withPeft(peft ->
                new Trainer(peft, cfg().build()).train(train, null).losses());
        Path out = tmp.resolve("run");
        withPeft(peft -> {
            try (Trainer t = new Trainer(peft, cfg().optOutputDir(out).optCheckpointEvery(3).build())) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        if (m.step() == 3) {
                            t.requestStop();
                        }
                    }
                });
                return t.train(train, null);
            }
        });
        Path ckpt = Trainer.latestCheckpoint(out);
        assertEquals("checkpoint-3", ckpt.getFileName().toString());
        @SuppressWarnings("unchecked")
        List<Double> rest = (List<Double>) withPeft(peft -> {
            try (Trainer t = new Trainer(peft, cfg().optOutputDir(out).optCheckpointEvery(3).build())) {
                return t.resume(ckpt, train, null).losses();
            }
        });
        assertEquals(full.subList(3, 8), rest);
        assertTrue(Files.readAllLines(out.resolve("metrics.jsonl")).size() >= 8);
    }

    @Test
    void nanLoss_stopsWithMessage_andKeepsLastGoodCheckpoint() throws Exception {
        List<Example> train = data(32, 9);
        Path out = tmp.resolve("nan");
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> withPeft(peft -> {
            try (Trainer t = new Trainer(peft, cfg().optOutputDir(out).optCheckpointEvery(2).build())) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        if (m.step() == 4) {   // poison one weight: the next loss is NaN
                            NDArray a = peft.trainableArrays().get(0);
                            float[] v = a.toFloatArray();
                            Arrays.fill(v, Float.NaN);
                            a.set(v);
                        }
                    }
                });
                return t.train(train, null);
            }
        }));
        assertTrue(e.getMessage().contains("step 5") && e.getMessage().contains("checkpoint-4"), e.getMessage());
        assertNotNull(e.lastGoodCheckpoint());
        assertEquals(out.resolve("checkpoint-4"), Trainer.latestCheckpoint(out));
    }

    /**
     * Regression: Java-number operands on the autograd path (DJL frees their temporary array before backward)
     * gave NaN/Inf gradients once GC reclaimed the buffer: 7 of 30 runs diverged under this GC pressure before the fix.
     */
    @Test
    void train_underGcPressure_gradientsStayFinite() throws Exception {
        Thread gc = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                System.gc();
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        gc.setDaemon(true);
        gc.start();
        try {
            List<Example> train = data(32, 1);
            for (int rep = 0; rep < 6; rep++) {
                withPeft(peft -> new Trainer(peft, cfg().optMaxSteps(20).optLearningRate(1e-2).build())
                        .train(train, null));
            }
        } finally {
            gc.interrupt();
        }
    }
}
