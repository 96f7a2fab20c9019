package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;

/** DoRA (Liu et al. 2024, arXiv:2402.09353) as PEFT's {@code DoraLinearLayer} computes it. */
final class DoraMath {
    private DoraMath() {
    }

    /** {@code ‖W + scale·B·A‖} per output row {@code [out]} (PEFT's {@code get_weight_norm}). */
    static NDArray rowNorm(NDArray w, NDArray delta) {
        return w.add(delta).square().sum(new int[] {1}).sqrt();
    }

    /** Magnitude at creation: the row norms of the current weight plus the initial ΔW (zero for B = 0). */
    static NDArray initialMagnitude(NDArray w, LoraSlot s, NDManager manager) {
        NDArray m = rowNorm(w, s.deltaWeight());
        m.attach(manager);
        return m;
    }

    /**
     * Adds the DoRA term to {@code y}: {@code (m/‖W+ΔW‖ − 1)·baseResult + m/‖W+ΔW‖ · B(A(x))·scale}, where
     * {@code baseResult} is {@code y} without bias, or {@code x·Wᵀ} recomputed from the dropped-out input.
     */
    static NDArray forward(NDArray y, NDArray xd, boolean droppedOut, LoraSlot s, NDArray w, NDArray bias) {
        return y.add(delta(y, xd, droppedOut, s, w, bias));
    }

    /** The DoRA term alone (what {@link #forward} adds to {@code y}); rows of a mixed batch use it on their own. */
    static NDArray delta(NDArray y, NDArray xd, boolean droppedOut, LoraSlot s, NDArray w, NDArray bias) {
        NDArray norm = rowNorm(w, s.deltaWeight().stopGradient()).stopGradient();
        NDArray magScale = s.magnitude.div(norm);                               // [out]
        NDArray baseResult;
        if (droppedOut) {
            baseResult = Linear.linear(xd, w).singletonOrThrow();
        } else {
            baseResult = bias == null ? y : y.sub(bias);
        }
        NDArray lora = s.loraOut(xd);
        return baseResult.mul(magScale.sub(1)).add(lora.mul(magScale));
    }

    /** Merged weight {@code (m/‖W+ΔW‖)[:,None] · (W + ΔW)} (PEFT's DoRA merge, norm detached). */
    static NDArray merge(NDArray w, LoraSlot s) {
        NDArray wd = w.add(s.deltaWeight());
        NDArray norm = wd.square().sum(new int[] {1}).sqrt();
        return wd.mul(s.magnitude.div(norm).reshape(-1, 1));
    }
}
