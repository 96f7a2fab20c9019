package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.SelectiveCheckpointing;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Activation checkpointing (recompute each decoder layer in backward) gives the same loss, gradients and training
 * run as the ordinary recorded backward, dropout included (the engine RNG is re-seeded per layer in both modes).
 */
class ActivationCheckpointingLoraTest {
    /** LoRA on every projection including lm_head, with dropout, so every segment has trainable arrays. */
    static final LoraConfig ALL = LoraConfig.builder().optR(4).optLoraAlpha(8).optLoraDropout(0.1)
            .optTargetModules(TargetModules.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                    "down_proj", "lm_head"))
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();

    /** Loss and flattened gradients of one backward of the summed token NLL (right padding in row 2). */
    private static float[][] lossAndGradients(LoraConfig config, boolean checkpoint, long rngSeed) {
        return lossAndGradients(config, checkpoint, false, rngSeed);
    }

    /** The same, with {@code selective} checkpointing (kept frozen MLP outputs) when {@code checkpoint}. */
    private static float[][] lossAndGradients(LoraConfig config, boolean checkpoint, boolean selective,
                                              long rngSeed) {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model); NDScope scope = new NDScope()) {
            peft.addAdapter("default", config, 5L);
            peft.setTraining(true);
            NDArray ids = TinyModels.ids(m);
            NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, new Shape(2, 6));
            NDArray targets = m.create(new long[] {5, 9, 33, 2, 60, 7, 4, 11, 3, 8, 12, 1}, new Shape(12, 1));
            float loss = SelectiveCheckpointing.during(selective, () -> peft.backward(ids, mask,
                    logits -> logits.reshape(12, TinyModels.VOCAB).logSoftmax(-1).gather(targets, 1).sum().neg(),
                    checkpoint, rngSeed));
            float[] grads = TinyModels.flatGradients(peft.trainableArrays());
            return new float[][] {{loss}, grads};
        }
    }

    @Test
    void backward_checkpointed_equalsRecordedLossAndGradients() {
        assertSameLossAndGradients(ALL);
    }

    /** Trainable copies of embedding (gradient through the recomputed embedding), norms and lm_head. */
    @Test
    void backward_checkpointedWithModulesToSave_equalsRecorded() {
        assertSameLossAndGradients(ALL.toBuilder().optTargetModules(TargetModules.of("q_proj", "down_proj"))
                .optModulesToSave(List.of("embed_tokens", "norm", "lm_head")).build());
    }

    /**
     * Selective checkpointing keeps the frozen gate, up and down outputs and sends their gradients through the frozen
     * weights by hand; loss and gradients equal the recorded backward's, dropout included.
     */
    @Test
    void backward_selective_equalsRecordedLossAndGradients() {
        assertSameLossAndGradients(ALL, true);
    }

    /** gate and up without adapters: their kept outputs are the whole projections and nothing reads h2 through them. */
    @Test
    void backward_selectiveWithFrozenGateAndUp_equalsRecorded() {
        assertSameLossAndGradients(ALL.toBuilder().optTargetModules(TargetModules.of("q_proj", "down_proj"))
                .optModulesToSave(List.of("embed_tokens", "norm", "lm_head")).build(), true);
    }

    /** down without adapters: its kept output is the whole projection and nothing reads act through it. */
    @Test
    void backward_selectiveWithFrozenDown_equalsRecorded() {
        assertSameLossAndGradients(ALL.toBuilder().optTargetModules(TargetModules.of("k_proj", "up_proj")).build(),
                true);
    }

    /** DoRA on gate has no frozen split: those layers are recomputed in full, with the same result. */
    @Test
    void backward_selectiveWithDora_fallsBackToFullRecompute() {
        assertSameLossAndGradients(ALL.toBuilder().optUseDora(true).optLoraDropout(0).build(), true);
    }

    /** Which projections split: plain LoRA over a frozen base does, DoRA and merged adapters do not. */
    @Test
    void frozenPart_plainLoraSplits_doraAndMergedDoNot() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", ALL, 5L);
            LoraLinear gate = (LoraLinear) model.linearLayers().get("model.layers.0.mlp.gate_proj");
            assertSame(gate.base(), gate.frozenPart());
            gate.merge("default");
            assertNull(gate.frozenPart());
            gate.unmerge("default");
            assertSame(gate.base(), gate.frozenPart());
            peft.addAdapter("dora", ALL.toBuilder().optUseDora(true).build(), 6L);
            gate.setActive("dora", true);
            assertNull(gate.frozenPart());
        }
    }

    private static void assertSameLossAndGradients(LoraConfig config) {
        assertSameLossAndGradients(config, false);
    }

    private static void assertSameLossAndGradients(LoraConfig config, boolean selective) {
        float[][] recorded = lossAndGradients(config, false, 77L);
        float[][] checkpointed = lossAndGradients(config, true, selective, 77L);
        assertEquals(recorded[0][0], checkpointed[0][0], 1e-5);
        assertTrue(recorded[1].length > 0);
        float maxAbs = 0;
        for (float g : recorded[1]) {
            maxAbs = Math.max(maxAbs, Math.abs(g));
        }
        assertTrue(maxAbs > 1e-3, "gradients must be non-trivial, max |g| = " + maxAbs);
        assertEquals(0, TinyModels.maxDiff(recorded[1], checkpointed[1]), 1e-5);
    }

    @Test
    void backward_otherRngSeed_drawsOtherDropoutMasks() {
        // guards the equality above: dropout is really on, so equal gradients need equal masks
        float[][] a = lossAndGradients(ALL, true, 77L);
        float[][] b = lossAndGradients(ALL, true, 78L);
        assertTrue(TinyModels.maxDiff(a[1], b[1]) > 1e-4);
    }

    private static double[][] trainRun(boolean checkpoint, int batch, int accum) throws Exception {
        return trainRun(checkpoint, false, batch, accum);
    }

    private static double[][] trainRun(boolean checkpoint, boolean selective, int batch, int accum)
            throws Exception {
        List<Example> train = LoraTrainingTest.data(32, 4);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 11L);
            TrainerConfig c = LoraTrainingTest.cfg().optMaxSteps(4).optBatchSize(batch).optGradAccum(accum)
                    .optActivationCheckpointing(checkpoint).optSelectiveCheckpointing(selective).build();
            try (Trainer t = new Trainer(peft, c)) {
                double[] losses = t.train(train, null).losses().stream().mapToDouble(Double::doubleValue).toArray();
                float[] w = LoraTrainingTest.flatWeights(peft);
                double[] wd = new double[w.length];
                for (int i = 0; i < w.length; i++) {
                    wd[i] = w[i];
                }
                return new double[][] {losses, wd};
            }
        }
    }

    @Test
    void train_checkpointed_sameLossCurveAndWeights() throws Exception {
        double[][] plain = trainRun(false, 4, 1);
        double[][] ckpt = trainRun(true, 4, 1);
        assertArrayClose(plain[0], ckpt[0], 1e-5, "loss curve");
        assertArrayClose(plain[1], ckpt[1], 1e-5, "adapter weights");
    }

    @Test
    void train_checkpointedWithGradAccum_sameLossCurveAndWeights() throws Exception {
        double[][] plain = trainRun(false, 2, 2);
        double[][] ckpt = trainRun(true, 2, 2);
        assertArrayClose(plain[0], ckpt[0], 1e-5, "loss curve");
        assertArrayClose(plain[1], ckpt[1], 1e-5, "adapter weights");
    }

    @Test
    void train_selective_sameLossCurveAndWeights() throws Exception {
        double[][] plain = trainRun(false, 2, 2);
        double[][] selective = trainRun(true, true, 2, 2);
        assertArrayClose(plain[0], selective[0], 1e-5, "loss curve");
        assertArrayClose(plain[1], selective[1], 1e-5, "adapter weights");
    }

    private static void assertArrayClose(double[] a, double[] b, double tol, String what) {
        assertEquals(a.length, b.length, what + " length");
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], tol, what + " [" + i + "]");
        }
    }
}
