package io.peft4j.core.train.preference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;

/**
 * The per-pair preference losses of {@link PreferenceLossType} on log-prob vectors {@code [pairs]}. Every constant
 * is a 0-d native array made once per step (a Java-number operand on the autograd path can give NaN gradients).
 * Lives inside a step's {@code NDScope}.
 */
final class PairLoss {
    private final PreferenceConfig cfg;
    private final NDArray beta;
    private final NDArray one;
    private final NDArray smoothing;
    private final NDArray keep;
    private final NDArray ipoTarget;

    PairLoss(PreferenceConfig cfg, NDManager m) {
        this.cfg = cfg;
        this.beta = scalar(m, cfg.beta());
        this.one = scalar(m, 1);
        this.smoothing = scalar(m, cfg.labelSmoothing());
        this.keep = scalar(m, 1 - cfg.labelSmoothing());
        this.ipoTarget = scalar(m, 1 / (2 * cfg.beta()));
    }

    static NDArray scalar(NDManager m, double v) {
        return m.full(new Shape(), (float) v, DataType.FLOAT32);
    }

    NDArray beta() {
        return beta;
    }

    /**
     * Per-pair loss of the reference losses (sigmoid, hinge, IPO).
     *
     * @param pc  policy log π(chosen), summed over answer tokens [n]
     * @param pr  policy log π(rejected) [n]
     * @param rc  reference log π_ref(chosen) [n]
     * @param rr  reference log π_ref(rejected) [n]
     * @param lc  answer tokens of chosen [n] (IPO)
     * @param lr  answer tokens of rejected [n] (IPO)
     */
    NDArray withReference(NDArray pc, NDArray pr, NDArray rc, NDArray rr, NDArray lc, NDArray lr) {
        NDArray chosenRatio = pc.sub(rc);
        NDArray rejectedRatio = pr.sub(rr);
        switch (cfg.lossType()) {
            case SIGMOID: {
                NDArray x = chosenRatio.sub(rejectedRatio).mul(beta);
                NDArray loss = logSigmoid(x).mul(keep);
                return cfg.labelSmoothing() == 0 ? loss.neg() : loss.add(logSigmoid(x.neg()).mul(smoothing)).neg();
            }
            case HINGE:
                return Activation.relu(one.sub(chosenRatio.sub(rejectedRatio).mul(beta)));
            case IPO:
                return chosenRatio.div(lc).sub(rejectedRatio.div(lr)).sub(ipoTarget).square();
            default:
                throw new IllegalStateException(cfg.lossType() + " has no reference");
        }
    }

    /**
     * ORPO's odds-ratio term log σ(log odds) per pair, on per-token averaged log-probs {@code [n]}; the loss is
     * {@code nll − β · mean(term)}.
     */
    NDArray orpoLogSigmoidOdds(NDArray avgChosen, NDArray avgRejected) {
        return logSigmoid(logOdds(avgChosen, avgRejected));
    }

    /** (ℓc − ℓr) − (log(1 − e^ℓc) − log(1 − e^ℓr)). */
    NDArray logOdds(NDArray avgChosen, NDArray avgRejected) {
        return avgChosen.sub(avgRejected).sub(log1mExp(avgChosen).sub(log1mExp(avgRejected)));
    }

    private NDArray log1mExp(NDArray x) {
        return one.sub(x.exp()).log();
    }

    /** log σ(x) = −softplus(−x), stable for large |x|. */
    static NDArray logSigmoid(NDArray x) {
        return Activation.softPlus(x.neg()).neg();
    }
}
