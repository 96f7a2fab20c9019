package io.peft4j.core.train.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.adapter.AdaptersDisabled;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.TrainingBatch;
import io.peft4j.core.train.TrainingObjective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Preference tuning as a {@link TrainingObjective}: DPO ({@code sigmoid}), IPO, hinge or ORPO, computed as trl's
 * {@code DPOTrainer} / {@code ORPOTrainer} do. Rows come in pairs (chosen, rejected; {@link PreferencePair#rows});
 * a micro-batch of n pairs goes through the model as one batch of 2n rows, the n chosen rows first. Log-probs are
 * summed over answer tokens (averaged per token by IPO for the loss and by ORPO everywhere). The reference policy
 * is the same base with the adapters disabled ({@link PeftModel#disableAdapters()}), run without gradients before
 * each micro-batch's backward, or once for all training pairs with {@code precompute_ref_log_probs}. The loss of a
 * step is the mean over its pairs. Metrics per step and per evaluation use trl's names: {@code rewards/chosen},
 * {@code rewards/rejected}, {@code rewards/accuracies}, {@code rewards/margins}, {@code logps/chosen},
 * {@code logps/rejected}, and for ORPO {@code nll_loss}, {@code log_odds_ratio}, {@code log_odds_chosen}.
 *
 * <pre>{@code
 * PreferenceObjective dpo = PreferenceObjective.of(PreferenceConfig.builder().optBeta(0.1).build());
 * try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(20).build(), dpo)) {
 *     TrainingResult r = t.train(PreferencePair.rows(pairs), PreferencePair.rows(heldOut));
 * }
 * }</pre>
 * One Trainer thread; holds the precomputed reference log-probs (two floats per training pair).
 *
 * @since 0.1.0
 */
public final class PreferenceObjective implements TrainingObjective {
    private static final Logger LOG = LoggerFactory.getLogger(PreferenceObjective.class);

    private final PreferenceConfig cfg;
    /** chosen example → {ref log π(chosen), ref log π(rejected)}, filled by precompute. */
    private final Map<Example, float[]> precomputed = new IdentityHashMap<>();

    private PreferenceObjective(PreferenceConfig cfg) {
        this.cfg = cfg;
    }

    public static PreferenceObjective of(PreferenceConfig cfg) {
        return new PreferenceObjective(java.util.Objects.requireNonNull(cfg, "cfg"));
    }

    public PreferenceConfig config() {
        return cfg;
    }

    @Override
    public int rowsPerItem() {
        return 2;
    }

    @Override
    public void prepare(PeftModel peft, List<Example> rows, int itemsPerBatch, int padId, NDManager manager) {
        if (!cfg.precomputeRefLogProbs()) {
            return;
        }
        long t0 = System.nanoTime();
        int per = 2 * itemsPerBatch;
        for (int i = 0; i < rows.size(); i += per) {
            List<Example> part = rows.subList(i, Math.min(rows.size(), i + per));
            if (precomputed.containsKey(part.get(0)) && precomputed.containsKey(part.get(part.size() - 2))) {
                continue;
            }
            float[] ref = referenceLogProbs(peft, collate(part, padId), manager);
            int n = part.size() / 2;
            for (int k = 0; k < n; k++) {
                precomputed.put(part.get(2 * k), new float[] {ref[k], ref[n + k]});
            }
        }
        LOG.info("precomputed reference log-probs of {} pairs in {} ms", rows.size() / 2,
                (System.nanoTime() - t0) / 1_000_000);
    }

    /** Rows c0, r0, c1, r1, ... collated as trl's concatenated batch: c0, c1, ..., r0, r1, .... */
    static TrainingBatch collate(List<Example> rows, int padId) {
        if (rows.size() % 2 != 0) {
            throw new IllegalArgumentException("preference rows come in pairs, got " + rows.size());
        }
        List<Example> ordered = new ArrayList<>(rows.size());
        for (int k = 0; k < rows.size(); k += 2) {
            ordered.add(rows.get(k));
        }
        for (int k = 1; k < rows.size(); k += 2) {
            ordered.add(rows.get(k));
        }
        return TrainingBatch.of(ordered, padId, 1);
    }

    /** Summed answer log-probs of every row of {@code b} with the adapters disabled, without gradients. */
    static float[] referenceLogProbs(PeftModel peft, TrainingBatch b, NDManager manager) {
        try (NDScope scope = new NDScope(); AdaptersDisabled off = peft.disableAdapters()) {
            NDArray logits = peft.forward(b.inputIdsArray(manager), b.attentionMaskArray(manager), null);
            return SequenceLogProbs.answer(SequenceLogProbs.tokenLogProbs(logits, b, manager), b, manager).sums()
                    .toFloatArray();
        }
    }

    @Override
    public Step begin(PeftModel peft, List<List<Example>> microBatches, int padId, NDManager manager) {
        List<TrainingBatch> batches = new ArrayList<>();
        int pairs = 0;
        for (List<Example> rows : microBatches) {
            batches.add(collate(rows, padId));
            pairs += rows.size() / 2;
        }
        return new PreferenceStep(this, peft, microBatches, batches, pairs, manager);
    }

    /** The reference log-probs of micro-batch rows, precomputed or computed now (adapters disabled). */
    float[] reference(PeftModel peft, List<Example> rows, TrainingBatch batch, NDManager manager) {
        int n = rows.size() / 2;
        float[] out = new float[2 * n];
        for (int k = 0; k < n; k++) {
            float[] p = precomputed.get(rows.get(2 * k));
            if (p == null) {
                return referenceLogProbs(peft, batch, manager);
            }
            out[k] = p[0];
            out[n + k] = p[1];
        }
        return out;
    }

    @Override
    public String toString() {
        return cfg.lossType().trlName() + "(beta=" + cfg.beta() + ")";
    }

    /** Index helpers shared with {@link PreferenceStep}. */
    static NDArray slice(NDArray v, int from, int to) {
        return v.get(new ai.djl.ndarray.index.NDIndex(from + ":" + to));
    }

    static NDArray vector(NDManager m, float[] v, int from, int to) {
        return m.create(java.util.Arrays.copyOfRange(v, from, to), new Shape(to - from));
    }

}
