package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingBatch;
import io.peft4j.core.train.TrainingDivergedException;
import io.peft4j.core.train.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Trainer behaviour around the step: a NaN gradient does not survive into a same-process resume, the checkpoint
 * records the dropout seed the trainer really uses, and packed rows train like the same examples unpacked.
 */
class TrainerRecoveryTest {
    @TempDir
    Path tmp;

    /** Collects every step's metrics. */
    static final class Steps implements TrainingListener {
        final List<StepMetrics> all = new ArrayList<>();

        @Override
        public void onStep(StepMetrics m) {
            all.add(m);
        }
    }

    @Test
    void divergence_thenResumeInSameProcess_nextGradientsFiniteAndEqualFreshRun() throws Exception {
        List<Example> train = LoraTrainingTest.data(32, 9);
        Steps fresh = new Steps();
        LoraTrainingTest.withPeft(peft -> {
            try (Trainer t = new Trainer(peft, LoraTrainingTest.cfg().build())) {
                return t.addListener(fresh).train(train, null);
            }
        });
        Path out = tmp.resolve("nan");
        Steps resumed = new Steps();
        LoraTrainingTest.withPeft(peft -> {
            try (Trainer t = new Trainer(peft, LoraTrainingTest.cfg().optOutputDir(out).optCheckpointEvery(2).build())) {
                boolean[] poisoned = {false};
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        if (m.step() == 4 && !poisoned[0]) {   // NaN weights: the next step's gradients are NaN
                            poisoned[0] = true;
                            NDArray a = peft.trainableArrays().get(0);
                            float[] v = a.toFloatArray();
                            Arrays.fill(v, Float.NaN);
                            a.set(v);
                        }
                    }
                });
                assertThrows(TrainingDivergedException.class, () -> t.train(train, null));
                t.addListener(resumed);
                return t.resume(Trainer.latestCheckpoint(out), train, null);
            }
        });
        assertEquals(4, resumed.all.size());
        StepMetrics next = resumed.all.get(0);
        assertEquals(5, next.step());
        assertTrue(Double.isFinite(next.gradNorm()) && Double.isFinite(next.loss()), next.toString());
        for (int i = 0; i < 4; i++) {
            assertEquals(fresh.all.get(4 + i).gradNorm(), resumed.all.get(i).gradNorm(), 0.0, "grad norm, step " + (5 + i));
            assertEquals(fresh.all.get(4 + i).loss(), resumed.all.get(i).loss(), 0.0, "loss, step " + (5 + i));
        }
    }

    @Test
    void checkpoint_recordsTheDropoutSeedOfTheNextStep() throws Exception {
        List<Example> train = LoraTrainingTest.data(4, 3);
        Path out = tmp.resolve("seed");
        TrainerConfig cfg = LoraTrainingTest.cfg().optBatchSize(4).optShuffle(false).optMaxSteps(4)
                .optLearningRate(5e-2).optWarmupSteps(0).optOutputDir(out).optCheckpointEvery(3).build();
        Steps steps = new Steps();
        LoraTrainingTest.withPeft(peft -> {
            try (Trainer t = new Trainer(peft, cfg)) {
                return t.addListener(steps).train(train, null);
            }
        });
        Path ckpt = out.resolve("checkpoint-3");
        JsonNode state = Json.MAPPER.readTree(ckpt.resolve("trainer_state.json").toFile());
        long recorded = state.path("next_micro_batch_seeds").get(0).asLong();
        assertEquals((3L * 1_000_003L + 3) * 1_009L, recorded);
        assertTrue(state.path("rng").asText().contains("CausalLM.segmentSeed"), state.path("rng").asText());
        double step4 = steps.all.get(3).loss();
        // the recorded seed replays step 4's dropout exactly; the formula the checkpoint used to state does not
        double replayed = (double) LoraTrainingTest.withPeft(peft -> stepLoss(peft, ckpt, train, recorded));
        double oldFormula = (double) LoraTrainingTest.withPeft(peft -> stepLoss(peft, ckpt, train, 3L * 1_000_003L + 3));
        assertEquals(step4, replayed, 1e-6);
        assertTrue(Math.abs(step4 - oldFormula) > 1e-5, step4 + " vs " + oldFormula);
    }

    /** The loss of one training backward over {@code train} (one micro-batch) from a checkpoint's adapter. */
    static double stepLoss(PeftModel peft, Path ckpt, List<Example> train, long seed) throws Exception {
        peft.loadAdapterWeights("default", ckpt.resolve("adapters").resolve("default"));
        peft.setTraining(true);
        TrainingBatch b = TrainingBatch.of(train, 0, 1);
        NDManager m = peft.base().manager();
        try (NDScope scope = new NDScope()) {
            NDArray count = m.full(new Shape(), b.trainedTokens(), DataType.FLOAT32);
            return peft.backward(b.inputIdsArray(m), b.attentionMaskArray(m), logits -> crossEntropy(logits, b, m)
                    .div(count), false, seed);
        }
    }

    static NDArray crossEntropy(NDArray logits, TrainingBatch b, NDManager m) {
        int t = b.seqLen();
        long[] target = new long[b.size() * t];
        float[] weight = new float[target.length];
        for (int r = 0; r < b.size(); r++) {
            for (int j = 0; j + 1 < t; j++) {
                if (b.isTarget(r, j + 1)) {
                    target[r * t + j] = b.labels()[r][j + 1];
                    weight[r * t + j] = 1f;
                }
            }
        }
        NDArray logp = logits.reshape(-1, TinyModels.VOCAB).logSoftmax(-1);
        NDArray picked = logp.gather(m.create(target, new Shape(target.length, 1)), 1).reshape(-1);
        return picked.mul(m.create(weight)).sum().neg();
    }

    /** Concatenates {@code parts} into one packed row of {@code length} as Packing does. */
    static Example packed(List<Example> parts, int length) {
        int[] ids = new int[length];
        int[] labels = new int[length];
        int[] mask = new int[length];
        int[] pos = new int[length];
        Arrays.fill(labels, Example.IGNORE);
        int at = 0;
        for (int s = 0; s < parts.size(); s++) {
            Example e = parts.get(s);
            for (int i = 0; i < e.inputIds().length; i++, at++) {
                ids[at] = e.inputIds()[i];
                labels[at] = i == 0 ? Example.IGNORE : e.labels()[i];
                mask[at] = s + 1;
                pos[at] = i;
            }
        }
        return new Example(ids, labels, mask, pos);
    }

    @Test
    void train_packedRows_firstStepEqualsUnpacked() throws Exception {
        List<Example> train = LoraTrainingTest.data(4, 21);
        List<Example> rows = List.of(packed(train.subList(0, 2), 24), packed(train.subList(2, 4), 24));
        LoraConfig noDropout = LoraTrainingTest.LORA.toBuilder().optLoraDropout(0).build();
        StepMetrics[] first = new StepMetrics[2];
        for (int k = 0; k < 2; k++) {
            List<Example> data = k == 0 ? train : rows;
            Steps steps = new Steps();
            try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
                 PeftModel peft = PeftModel.wrap(model)) {
                peft.addAdapter("default", noDropout, 11L);
                TrainerConfig c = LoraTrainingTest.cfg().optMaxSteps(1).optBatchSize(data.size()).build();
                try (Trainer t = new Trainer(peft, c)) {
                    t.addListener(steps).train(data, null);
                }
            }
            first[k] = steps.all.get(0);
        }
        assertEquals(first[0].tokens(), first[1].tokens(), "real tokens");
        assertEquals(first[0].loss(), first[1].loss(), 1e-5);
        assertEquals(first[0].gradNorm(), first[1].gradNorm(), 1e-5 * first[0].gradNorm());
        assertTrue(first[0].gradNorm() > 0);
    }

    @Test
    void evaluate_failingMidRun_restoresTrainingMode() throws Exception {
        List<Example> train = LoraTrainingTest.data(8, 4);
        List<Example> packedEval = List.of(packed(train.subList(0, 2), 24));
        boolean[] seen = new boolean[2];   // {evaluate refused, still training after}
        LoraTrainingTest.withPeft(peft -> {
            try (Trainer t = new Trainer(peft, LoraTrainingTest.cfg().optMaxSteps(1).build())) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                () -> t.evaluate(packedEval));
                        seen[0] = e.getMessage().contains("unpacked");
                        seen[1] = peft.registry().isTraining();
                    }
                });
                return t.train(train, null);
            }
        });
        assertTrue(seen[0], "packed eval refused with a message");
        assertTrue(seen[1], "training mode restored after the failed evaluate");
    }
}
