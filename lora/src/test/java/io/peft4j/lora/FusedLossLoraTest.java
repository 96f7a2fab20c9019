package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.TokenCrossEntropy;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.CrossEntropyObjective;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingBatch;
import io.peft4j.core.train.TrainingObjective;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused, chunked lm_head + cross-entropy ({@link TokenCrossEntropy#backwardFused}) gives the loss and gradients
 * of the full-logits path, with and without activation checkpointing, for chunk sizes that do and do not divide the
 * trained positions, with a row whose labels are all masked and with a micro-batch that trains nothing.
 */
class FusedLossLoraTest {
    /** LoRA on every projection but lm_head, with dropout (the head's dropout draws would differ per chunk). */
    static final LoraConfig LAYERS = LoraConfig.builder().optR(4).optLoraAlpha(8).optLoraDropout(0.1)
            .optTargetModules(TargetModules.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                    "down_proj"))
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    /** LoRA on lm_head too (no dropout) and a trainable copy of the tied embedding and the final norm. */
    static final LoraConfig HEAD = LoraConfig.builder().optR(4).optLoraAlpha(8)
            .optTargetModules(TargetModules.of("q_proj", "down_proj", "lm_head"))
            .optModulesToSave(List.of("embed_tokens", "norm")).optInitLoraWeights(InitLoraWeights.RANDOM).build();

    /** Row 0 fully trained, row 1 all labels masked, row 2 prompt masked and shorter (right padding). */
    static List<Example> rows() {
        int[] a = {1, 5, 9, 33, 2, 60, 7, 4};
        int[] b = {4, 11, 3, 8, 12, 1, 40, 41};
        int[] c = {7, 7, 20, 21, 22, 23};
        int[] masked = new int[b.length];
        java.util.Arrays.fill(masked, Example.IGNORE);
        int[] cLabels = c.clone();
        cLabels[0] = Example.IGNORE;
        cLabels[1] = Example.IGNORE;
        cLabels[2] = Example.IGNORE;
        return List.of(Example.unmasked(a), new Example(b, masked), new Example(c, cLabels));
    }

    /** Loss and flattened gradients of one backward of {@code rows} under {@code objective}. */
    static float[][] lossAndGradients(LoraConfig config, List<Example> rows, CrossEntropyObjective objective,
                                      boolean checkpoint) {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model); NDScope scope = new NDScope()) {
            peft.addAdapter("default", config, 5L);
            peft.setTraining(true);
            TrainingObjective.Step step = objective.begin(peft, List.of(rows), 0, m);
            TrainingBatch b = step.batch(0);
            Function<NDArray, NDArray> loss = step.lossOf(0);
            assertInstanceOf(TokenCrossEntropy.class, loss);
            float value = peft.backward(b.inputIdsArray(m), b.attentionMaskArray(m), loss, checkpoint, 77L);
            float[] grads = TinyModels.flatGradients(peft.trainableArrays());
            return new float[][] {{value}, grads};
        }
    }

    private static void assertSame(LoraConfig config, List<Example> rows, boolean expectSignal) {
        float[][] full = lossAndGradients(config, rows, CrossEntropyObjective.withChunkSize(0), false);
        float maxAbs = 0;
        for (float g : full[1]) {
            maxAbs = Math.max(maxAbs, Math.abs(g));
        }
        if (expectSignal) {
            assertTrue(maxAbs > 1e-3, "gradients must be non-trivial, max |g| = " + maxAbs);
        }
        for (boolean checkpoint : new boolean[] {false, true}) {
            for (int chunk : new int[] {0, 1, 4, 5, 512}) {
                float[][] fused = lossAndGradients(config, rows, CrossEntropyObjective.withChunkSize(chunk),
                        checkpoint);
                float dg = TinyModels.maxDiff(full[1], fused[1]);
                System.out.printf("fused loss chunk %d checkpoint %b: loss %.7f vs %.7f, max|dgrad| %.3e (max|g| %.3e)%n",
                        chunk, checkpoint, fused[0][0], full[0][0], dg, maxAbs);
                assertEquals(full[0][0], fused[0][0], 1e-5, "loss, chunk " + chunk + ", checkpoint " + checkpoint);
                assertEquals(0, dg, 1e-5, "gradients, chunk " + chunk + ", checkpoint " + checkpoint);
            }
        }
    }

    @Test
    void fused_equalsFullLogits_loraOnLayersWithDropout() {
        // 7 + 0 + 2 = 9 trained positions: chunks of 4 and 5 do not divide them
        assertSame(LAYERS, rows(), true);
    }

    @Test
    void fused_equalsFullLogits_loraOnLmHeadAndTrainableEmbedding() {
        assertSame(HEAD, rows(), true);
    }

    @Test
    void fused_microBatchTrainingNothing_zeroLossAndGradients() {
        List<Example> none = rows().stream().map(e -> {
            int[] masked = new int[e.inputIds().length];
            java.util.Arrays.fill(masked, Example.IGNORE);
            return new Example(e.inputIds(), masked);
        }).toList();
        float[][] fused = lossAndGradients(HEAD, none, CrossEntropyObjective.withChunkSize(4), true);
        assertEquals(0f, fused[0][0]);
        float[][] plain = lossAndGradients(HEAD, none, CrossEntropyObjective.withChunkSize(4), false);
        assertEquals(0f, plain[0][0]);
        float max = 0;
        for (float g : fused[1]) {
            max = Math.max(max, Math.abs(g));
        }
        assertEquals(0f, max);
        assertEquals(0f, TinyModels.maxDiff(fused[1], plain[1]));
    }

    private static double[] trainLosses(CrossEntropyObjective objective, boolean checkpoint) throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 11L);
            TrainerConfig c = LoraTrainingTest.cfg().optMaxSteps(4).optBatchSize(2).optGradAccum(2)
                    .optActivationCheckpointing(checkpoint).build();
            try (Trainer t = new Trainer(peft, c, objective)) {
                return t.train(LoraTrainingTest.data(32, 4), null).losses().stream()
                        .mapToDouble(Double::doubleValue).toArray();
            }
        }
    }

    @Test
    void train_fusedDefault_sameLossCurveAsFullLogits() throws Exception {
        double[] full = trainLosses(CrossEntropyObjective.withChunkSize(0), false);
        for (boolean checkpoint : new boolean[] {false, true}) {
            double[] fused = trainLosses(CrossEntropyObjective.withChunkSize(3), checkpoint);
            assertEquals(full.length, fused.length);
            for (int i = 0; i < full.length; i++) {
                assertEquals(full[i], fused[i], 1e-5, "step " + (i + 1) + ", checkpoint " + checkpoint);
            }
        }
    }
}
