package io.peft4j.lora;

import ai.djl.pytorch.jni.JniUtils;
import io.peft4j.core.Inference;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainingResult;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch's grad mode is per thread and on by default; DJL switches it off only on the thread that starts the
 * engine. Training and inference must work the same on any other thread (a server worker, a Spark task): before
 * the fix, the optimizer's in-place update failed there with "a leaf Variable that requires grad is being used in
 * an in-place operation".
 */
class TrainerThreadTest {

    @Test
    void train_onAFreshThread_matchesTheSameRunOnThisThread() throws Exception {
        List<Example> data = LoraTrainingTest.data(16, 5);
        float[] here = trainedWeights(data);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            float[] there = pool.submit(() -> {
                assertTrue(JniUtils.isGradMode(), "a fresh thread starts with grad mode on");
                return trainedWeights(data);
            }).get();
            assertArrayEquals(here, there, "same seed, same data: same adapter on any thread");
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void inference_onAFreshThread_turnsGradModeOffAndRestoresIt() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            pool.submit(() -> {
                assertTrue(JniUtils.isGradMode());
                try (Inference.Scope outer = Inference.enter()) {
                    assertFalse(JniUtils.isGradMode());
                    try (Inference.Scope inner = Inference.enter()) {
                        assertFalse(JniUtils.isGradMode());
                    }
                    assertFalse(JniUtils.isGradMode(), "an inner scope leaves the outer one's mode");
                }
                assertTrue(JniUtils.isGradMode(), "the outermost scope restores the thread's mode");
                return null;
            }).get();
        } finally {
            pool.shutdown();
        }
    }

    private static float[] trainedWeights(List<Example> data) throws Exception {
        return (float[]) LoraTrainingTest.withPeft(peft -> {
            try (Trainer t = new Trainer(peft, LoraTrainingTest.cfg().optMaxSteps(4).build())) {
                TrainingResult r = t.train(data, null);
                assertTrue(Double.isFinite(r.trainLoss()), "loss " + r.trainLoss());
            }
            return LoraTrainingTest.flatWeights(peft);
        });
    }
}
