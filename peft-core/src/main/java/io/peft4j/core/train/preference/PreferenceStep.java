package io.peft4j.core.train.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.TrainingBatch;
import io.peft4j.core.train.TrainingObjective;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One optimizer step (or evaluation pass) of a {@link PreferenceObjective}: the loss of micro-batch i is
 * Σ_pairs loss / (pairs in the step), so the step's loss is the mean over its pairs; the metrics are trl's, averaged
 * over the step's pairs ({@code nll_loss} over its micro-batches). Lives inside the step's {@code NDScope}.
 */
final class PreferenceStep implements TrainingObjective.Step {
    private final PreferenceObjective objective;
    private final PeftModel peft;
    private final List<List<Example>> rows;
    private final List<TrainingBatch> batches;
    private final NDManager m;
    private final PairLoss pairLoss;
    private final NDArray invPairs;
    private final int totalPairs;
    /** per micro-batch: sums over its pairs of each metric (overwritten if a loss is evaluated twice). */
    private final double[][] sums;

    private static final String[] NAMES = {"rewards/chosen", "rewards/rejected", "rewards/accuracies",
        "rewards/margins", "logps/chosen", "logps/rejected", "nll_loss", "log_odds_ratio", "log_odds_chosen"};

    PreferenceStep(PreferenceObjective objective, PeftModel peft, List<List<Example>> rows, List<TrainingBatch> batches,
                   int totalPairs, NDManager m) {
        this.objective = objective;
        this.peft = peft;
        this.rows = rows;
        this.batches = batches;
        this.m = m;
        this.totalPairs = totalPairs;
        this.pairLoss = new PairLoss(objective.config(), m);
        this.invPairs = PairLoss.scalar(m, 1.0 / totalPairs);
        this.sums = new double[batches.size()][];
    }

    @Override
    public TrainingBatch batch(int i) {
        return batches.get(i);
    }

    @Override
    public Function<NDArray, NDArray> lossOf(int i) {
        TrainingBatch b = batches.get(i);
        int n = b.size() / 2;
        PreferenceConfig cfg = objective.config();
        float[] ref = cfg.lossType().needsReference() ? objective.reference(peft, rows.get(i), b, m) : null;
        float[] lengths = SequenceLogProbs.answerLengths(b);
        return logits -> {
            NDArray tokenLogps = SequenceLogProbs.tokenLogProbs(logits, b, m);
            SequenceLogProbs.Sums answer = SequenceLogProbs.answer(tokenLogps, b, m);
            NDArray pc = PreferenceObjective.slice(answer.sums(), 0, n);
            NDArray pr = PreferenceObjective.slice(answer.sums(), n, 2 * n);
            double[] s = new double[NAMES.length];
            NDArray loss;
            if (ref != null) {
                NDArray rc = PreferenceObjective.vector(m, ref, 0, n);
                NDArray rr = PreferenceObjective.vector(m, ref, n, 2 * n);
                loss = pairLoss.withReference(pc, pr, rc, rr, PreferenceObjective.vector(m, lengths, 0, n),
                        PreferenceObjective.vector(m, lengths, n, 2 * n));
                float[] c = pc.toFloatArray();
                float[] r = pr.toFloatArray();
                for (int k = 0; k < n; k++) {
                    double rewardC = cfg.beta() * ((double) c[k] - ref[k]);
                    double rewardR = cfg.beta() * ((double) r[k] - ref[n + k]);
                    accumulate(s, rewardC, rewardR, c[k], r[k]);
                }
            } else {
                NDArray avgC = pc.div(PreferenceObjective.vector(m, answer.counts(), 0, n));
                NDArray avgR = pr.div(PreferenceObjective.vector(m, answer.counts(), n, 2 * n));
                NDArray nll = chosenNll(tokenLogps, b, n);
                NDArray term = pairLoss.orpoLogSigmoidOdds(avgC, avgR);
                loss = nll.sub(term.mul(pairLoss.beta()));
                float[] c = avgC.toFloatArray();
                float[] r = avgR.toFloatArray();
                float[] t = term.toFloatArray();
                float[] odds = pairLoss.logOdds(avgC, avgR).toFloatArray();
                for (int k = 0; k < n; k++) {
                    accumulate(s, cfg.beta() * c[k], cfg.beta() * r[k], c[k], r[k]);
                    s[7] += t[k];
                    s[8] += odds[k];
                }
                s[6] = nll.getFloat() * n;
            }
            sums[i] = s;
            return loss.sum().mul(invPairs);
        };
    }

    /** Mean cross-entropy over every real next token of the n chosen rows (prompt included, as trl's ORPO). */
    private NDArray chosenNll(NDArray tokenLogps, TrainingBatch b, int n) {
        SequenceLogProbs.Sums all = SequenceLogProbs.all(tokenLogps, b, m);
        double tokens = 0;
        for (int k = 0; k < n; k++) {
            tokens += all.counts()[k];
        }
        NDArray count = PairLoss.scalar(m, Math.max(1, tokens));
        return PreferenceObjective.slice(all.sums(), 0, n).sum().neg().div(count);
    }

    private static void accumulate(double[] s, double rewardC, double rewardR, double logpC, double logpR) {
        s[0] += rewardC;
        s[1] += rewardR;
        s[2] += rewardC > rewardR ? 1 : 0;
        s[3] += rewardC - rewardR;
        s[4] += logpC;
        s[5] += logpR;
    }

    @Override
    public Map<String, Double> metrics() {
        double[] total = new double[NAMES.length];
        for (double[] s : sums) {
            if (s != null) {
                for (int j = 0; j < total.length; j++) {
                    total[j] += s[j];
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        int keys = objective.config().lossType().needsReference() ? 6 : NAMES.length;
        for (int j = 0; j < keys; j++) {
            out.put(NAMES[j], total[j] / totalPairs);
        }
        return out;
    }
}
