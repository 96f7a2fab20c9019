package io.peft4j.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov &amp; Hutter, arXiv:1711.05101) exactly as {@code torch.optim.AdamW}: decoupled weight decay
 * {@code p ← p·(1 − lr·λ)}, then {@code m ← β1·m + (1−β1)·g}, {@code v ← β2·v + (1−β2)·g²},
 * {@code p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)}. Updates parameters in place; its moment arrays live in its
 * own manager (close the optimizer to free them). Call from one thread, inside an {@code NDScope}.
 *
 * <pre>{@code
 * try (AdamW opt = new AdamW(params, 0.9, 0.999, 1e-8, 0.01, manager)) {
 *     opt.step(grads, 1e-3);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class AdamW implements AutoCloseable {
    private final List<NDArray> params;
    private final List<NDArray> m = new ArrayList<>();   // first moments, shaped like params
    private final List<NDArray> v = new ArrayList<>();   // second moments
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final NDManager manager;
    private long t;

    public AdamW(List<NDArray> params, double beta1, double beta2, double eps, double weightDecay,
                 NDManager parent) {
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || eps <= 0 || weightDecay < 0) {
            throw new IllegalArgumentException("invalid AdamW settings: beta1=" + beta1 + " beta2=" + beta2
                    + " eps=" + eps + " weight_decay=" + weightDecay);
        }
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.manager = parent.newSubManager();
        for (NDArray p : this.params) {
            m.add(keep(manager.zeros(p.getShape())));
            v.add(keep(manager.zeros(p.getShape())));
        }
    }

    private static NDArray keep(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    /** One update with {@code grads} (same order as the parameters) at learning rate {@code lr}. */
    public void step(List<NDArray> grads, double lr) {
        if (grads.size() != params.size()) {
            throw new IllegalArgumentException(grads.size() + " gradients for " + params.size() + " parameters");
        }
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i);
            NDArray g = grads.get(i);
            if (weightDecay != 0) {
                p.muli(1 - lr * weightDecay);
            }
            m.get(i).muli(beta1).addi(g.mul(1 - beta1));
            v.get(i).muli(beta2).addi(g.square().mul(1 - beta2));
            NDArray denom = v.get(i).sqrt().div(Math.sqrt(bc2)).add(eps);
            p.subi(m.get(i).div(denom).mul(lr / bc1));
        }
    }

    /** Number of steps taken (the {@code t} of the bias corrections). */
    public long stepCount() {
        return t;
    }

    /** Live moment arrays: {@code m.<i>} and {@code v.<i>} for parameter {@code i}. */
    public List<NDArray> firstMoments() {
        return m;
    }

    public List<NDArray> secondMoments() {
        return v;
    }

    /** Restores the step counter (after the moments were loaded into {@link #firstMoments()}/{@link #secondMoments()}). */
    public void setStepCount(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("step count must be >= 0: " + steps);
        }
        this.t = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
