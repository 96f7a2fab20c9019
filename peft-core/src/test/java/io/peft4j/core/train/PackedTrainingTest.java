package io.peft4j.core.train;

import io.peft4j.core.train.internal.CausalLmLoss;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packed rows on a tiny random LLaMA: a row holding two examples gives each example's own logits, loss and
 * gradients (block-diagonal attention, restarting positions, no loss across the boundary), also with activation
 * checkpointing, and no token of one example can see the other.
 */
class PackedTrainingTest {
    static final int VOCAB = 61;
    static final String[] TRAINED = {"model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
        "model.layers.1.mlp.down_proj"};
    static final Example A = new Example(new int[] {3, 17, 5, 40, 22}, new int[] {-100, -100, 5, 40, 22});
    static final Example B = Example.unmasked(new int[] {9, 1, 58, 13});

    NDManager manager;
    LlamaModel model;
    List<NDArray> weights;

    @BeforeEach
    void setUp() {
        manager = Peft4j.newManager();
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", VOCAB, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);
        model = LlamaModel.random(c, 7, manager);
        weights = new ArrayList<>();
        for (String path : TRAINED) {
            LinearLayer old = model.linearLayers().get(path);
            NDArray w = old.denseWeight(manager);
            w.setRequiresGradient(true);
            model.replaceLinear(path, new DenseLinear(w, null)).close();
            weights.add(w);
        }
    }

    @AfterEach
    void tearDown() {
        model.close();
        manager.close();
    }

    /** A then B in one row of 11 (one pad), as Packing lays it out: B's first label ignored. */
    static Example packedRow(Example a, Example b) {
        int n = a.inputIds().length + b.inputIds().length + 1;
        int[] ids = new int[n];
        int[] labels = new int[n];
        int[] mask = new int[n];
        int[] pos = new int[n];
        java.util.Arrays.fill(labels, Example.IGNORE);
        int at = 0;
        int seq = 1;
        for (Example e : List.of(a, b)) {
            for (int i = 0; i < e.inputIds().length; i++) {
                ids[at] = e.inputIds()[i];
                labels[at] = i == 0 ? Example.IGNORE : e.labels()[i];
                mask[at] = seq;
                pos[at++] = i;
            }
            seq++;
        }
        return new Example(ids, labels, mask, pos);
    }

    /** Runs one training backward over {@code batch}; returns {loss, logits...} and leaves gradients in weights. */
    record Run(float loss, float[] logits, float[][] grads) {
    }

    Run run(TrainingBatch batch, boolean checkpoint) {
        weights.forEach(w -> {
            if (w.hasGradient()) {
                Trainer.zeroFill(w.getGradient());
            }
        });
        float[][] logits = new float[1][];
        try (NDScope scope = new NDScope()) {
            float loss = model.backward(batch.inputIdsArray(manager), batch.attentionMaskArray(manager),
                    batch.positionIdsArray(manager), l -> {
                        logits[0] = l.toFloatArray();
                        return CausalLmLoss.sum(l, batch, manager);
                    }, checkpoint, 5L);
            float[][] grads = weights.stream().map(w -> w.getGradient().toFloatArray()).toArray(float[][]::new);
            return new Run(loss, logits[0], grads);
        }
    }

    static float maxDiff(float[] a, int aFrom, float[] b, int bFrom, int n) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(a[aFrom + i] - b[bFrom + i]));
        }
        return max;
    }

    @Test
    void packedRow_logitsAndLoss_equalEachExampleAlone() {
        Run packed = run(TrainingBatch.of(List.of(packedRow(A, B)), 0, 1), false);
        Run a = run(TrainingBatch.of(List.of(A), 0, 1), false);
        Run b = run(TrainingBatch.of(List.of(B), 0, 1), false);
        assertTrue(maxDiff(packed.logits(), 0, a.logits(), 0, 5 * VOCAB) < 1e-5, "example A's logits");
        assertTrue(maxDiff(packed.logits(), 5 * VOCAB, b.logits(), 0, 4 * VOCAB) < 1e-5, "example B's logits");
        assertEquals(a.loss() + b.loss(), packed.loss(), 1e-5, "summed token loss");
    }

    @Test
    void packedRow_gradients_equalUnpackedBatch_withAndWithoutCheckpointing() {
        TrainingBatch unpacked = TrainingBatch.of(List.of(A, B), 0, 1);
        TrainingBatch packed = TrainingBatch.of(List.of(packedRow(A, B)), 0, 1);
        assertEquals(unpacked.trainedTokens(), packed.trainedTokens());
        Run ref = run(unpacked, false);
        for (boolean checkpoint : new boolean[] {false, true}) {
            Run p = run(packed, checkpoint);
            assertEquals(ref.loss(), p.loss(), 1e-5);
            for (int i = 0; i < TRAINED.length; i++) {
                float scale = maxDiff(ref.grads()[i], 0, new float[ref.grads()[i].length], 0, ref.grads()[i].length);
                assertTrue(scale > 1e-4, "gradient reaches " + TRAINED[i]);
                float diff = maxDiff(ref.grads()[i], 0, p.grads()[i], 0, ref.grads()[i].length);
                assertTrue(diff < 1e-5, TRAINED[i] + " (checkpoint " + checkpoint + "): max diff " + diff);
            }
        }
    }

    @Test
    void packedRow_perturbingFirstExample_leavesSecondExampleLogits() {
        Example other = new Example(new int[] {50, 2, 2, 7, 31}, A.labels());
        Run base = run(TrainingBatch.of(List.of(packedRow(A, B)), 0, 1), false);
        Run perturbed = run(TrainingBatch.of(List.of(packedRow(other, B)), 0, 1), false);
        assertTrue(maxDiff(base.logits(), 0, perturbed.logits(), 0, 5 * VOCAB) > 1e-2, "A's logits changed");
        assertEquals(0f, maxDiff(base.logits(), 5 * VOCAB, perturbed.logits(), 5 * VOCAB, 4 * VOCAB), 1e-6,
                "B's logits do not see A");
    }

    @Test
    void unpackedBatch_packedPathWithOneSequencePerRow_equalsUnpackedPath() {
        TrainingBatch unpacked = TrainingBatch.of(List.of(A, B), 0, 1);
        Run ref = run(unpacked, false);
        float[][] logits = new float[1][];
        try (NDScope scope = new NDScope()) {   // explicit positions force the packed layout builder
            model.backward(unpacked.inputIdsArray(manager), unpacked.attentionMaskArray(manager),
                    manager.create(new long[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 0}, new ai.djl.ndarray.types.Shape(2, 5)),
                    l -> {
                        logits[0] = l.toFloatArray();
                        return CausalLmLoss.sum(l, unpacked, manager);
                    }, false, 5L);
        }
        assertTrue(maxDiff(ref.logits(), 0, logits[0], 0, 5 * VOCAB) < 1e-6);
        assertTrue(maxDiff(ref.logits(), 5 * VOCAB, logits[0], 5 * VOCAB, 4 * VOCAB) < 1e-6);
    }
}
