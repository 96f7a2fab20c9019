package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.core.train.preference.PreferenceConfig;
import io.peft4j.core.train.preference.PreferenceLossType;
import io.peft4j.core.train.preference.PreferenceObjective;
import io.peft4j.core.train.preference.PreferencePair;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Preference tuning of a LoRA adapter on a tiny random LLaMA: DPO raises the reward accuracy on its training pairs,
 * only the adapter changes, the reference is the base model, and precomputed reference log-probs give the same run.
 */
class PreferenceTrainingTest {
    static final LoraConfig LORA = LoraConfig.builder().optR(8).optLoraAlpha(16)
            .optTargetModules(TargetModules.ALL_LINEAR).build();

    /** Pairs: a 3-token prompt; chosen continues with 3·x+1 mod 50, rejected with random tokens. */
    static List<PreferencePair> pairs(int n, long seed) {
        Random r = new Random(seed);
        List<PreferencePair> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = {r.nextInt(50), r.nextInt(50), r.nextInt(50)};
            int len = 3 + r.nextInt(3);
            int[] good = new int[len];
            int[] bad = new int[len];
            int x = prompt[2];
            for (int t = 0; t < len; t++) {
                x = (3 * x + 1) % 50;
                good[t] = x;
                bad[t] = r.nextInt(50);
            }
            out.add(new PreferencePair(row(prompt, good), row(prompt, bad)));
        }
        return out;
    }

    static Example row(int[] prompt, int[] answer) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + answer.length);
        System.arraycopy(answer, 0, ids, prompt.length, answer.length);
        int[] labels = ids.clone();
        Arrays.fill(labels, 0, prompt.length, Example.IGNORE);
        return new Example(ids, labels);
    }

    static TrainerConfig cfg(int steps) {
        return TrainerConfig.builder().optLearningRate(2e-2).optBatchSize(4).optMaxSteps(steps).optSeed(5).build();
    }

    @Test
    void dpo_raisesRewardAccuracy_onTrainingPairs_andTouchesOnlyTheAdapter() throws Exception {
        List<PreferencePair> train = pairs(16, 1);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            NDArray ids = TinyModels.ids(m);
            float[] baseLogits = TinyModels.logits(peft, ids);
            peft.addAdapter("default", LORA, 11L);
            float[] baseWeight = model.linearLayers().get("model.layers.0.self_attn.q_proj").denseWeight(m)
                    .toFloatArray();
            PreferenceObjective dpo = PreferenceObjective.of(PreferenceConfig.builder().build());
            List<Map<String, Double>> steps = new ArrayList<>();
            try (Trainer t = new Trainer(peft, cfg(20), dpo)) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        steps.add(s.metrics());
                    }
                });
                EvalMetrics before = t.evaluate(PreferencePair.rows(train));
                TrainingResult r = t.train(PreferencePair.rows(train), List.of());
                EvalMetrics after = t.evaluate(PreferencePair.rows(train));
                System.err.printf("DPO tiny: loss %.4f -> %.4f, accuracy %.3f -> %.3f, margin %.4f -> %.4f%n",
                        before.loss(), after.loss(), before.metrics().get("rewards/accuracies"),
                        after.metrics().get("rewards/accuracies"), before.metrics().get("rewards/margins"),
                        after.metrics().get("rewards/margins"));
                assertEquals(Math.log(2), before.loss(), 1e-5, "a zero-initialised LoRA B is the reference");
                assertEquals(0.0, before.metrics().get("rewards/margins"), 1e-6);
                assertTrue(after.metrics().get("rewards/accuracies") >= 0.9, after.metrics().toString());
                assertTrue(after.metrics().get("rewards/margins") > 0.5, after.metrics().toString());
                assertTrue(after.loss() < 0.3, "loss " + after.loss());
                assertEquals(20, r.steps());
                assertTrue(steps.get(0).keySet().containsAll(List.of("rewards/chosen", "rewards/rejected",
                        "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected")));
            }
            float[] weightAfter = model.linearLayers().get("model.layers.0.self_attn.q_proj").denseWeight(m)
                    .toFloatArray();
            assertArrayEquals(baseWeight, weightAfter, 0f, "the base weight is frozen");
            try (var off = peft.disableAdapters()) {
                assertArrayEquals(baseLogits, TinyModels.logits(peft, ids), 1e-6f,
                        "adapters disabled give the base model (the reference policy)");
            }
            assertTrue(TinyModels.maxDiff(baseLogits, TinyModels.logits(peft, ids)) > 1e-3, "the adapter learned");
        }
    }

    /** Final adapter weights of a DPO run, with or without precomputing the reference. */
    static float[] run(PreferenceConfig pc, List<PreferencePair> train, int steps) throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LORA, 11L);
            try (Trainer t = new Trainer(peft, cfg(steps), PreferenceObjective.of(pc))) {
                t.train(PreferencePair.rows(train), List.of());
            }
            return LoraTrainingTest.flatWeights(peft);
        }
    }

    @Test
    void precomputedReference_givesTheSameRun() throws Exception {
        List<PreferencePair> train = pairs(8, 2);
        float[] live = run(PreferenceConfig.builder().setLossType(PreferenceLossType.IPO).build(), train, 4);
        float[] pre = run(PreferenceConfig.builder().setLossType(PreferenceLossType.IPO)
                .optPrecomputeRefLogProbs(true).build(), train, 4);
        assertArrayEquals(live, pre, 1e-6f);
    }

    @Test
    void orpo_andHinge_learnToo() throws Exception {
        List<PreferencePair> train = pairs(16, 3);
        for (PreferenceLossType type : List.of(PreferenceLossType.ORPO, PreferenceLossType.HINGE)) {
            try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
                 PeftModel peft = PeftModel.wrap(model)) {
                peft.addAdapter("default", LORA, 11L);
                try (Trainer t = new Trainer(peft, cfg(15),
                        PreferenceObjective.of(PreferenceConfig.builder().setLossType(type).build()))) {
                    EvalMetrics before = t.evaluate(PreferencePair.rows(train));
                    t.train(PreferencePair.rows(train), List.of());
                    EvalMetrics after = t.evaluate(PreferencePair.rows(train));
                    System.err.printf("%s tiny: loss %.4f -> %.4f, accuracy %.3f -> %.3f%n", type, before.loss(),
                            after.loss(), before.metrics().get("rewards/accuracies"),
                            after.metrics().get("rewards/accuracies"));
                    assertTrue(after.loss() < before.loss(), type + " loss falls");
                    assertTrue(after.metrics().get("rewards/accuracies") >= 0.9, type + " " + after.metrics());
                }
            }
        }
    }
}
