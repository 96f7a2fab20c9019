package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

import java.util.function.Supplier;

/**
 * DoRA (Liu et al. 2024, arXiv:2402.09353) as PEFT's {@code DoraLinearLayer} computes it: the output gains
 * {@code (m/‖W+ΔW‖ − 1)·baseResult + m/‖W+ΔW‖ · B(A(x))·scale}, the row norm detached from the graph.
 */
final class DoraVariant implements LoraVariant {

    /** {@code ‖W + ΔW‖} per output row {@code [out]} (PEFT's {@code get_weight_norm}). */
    static NDArray rowNorm(NDArray w, NDArray delta) {
        return w.add(delta).square().sum(new int[] {1}).sqrt();
    }

    /** The row norms of the current weight plus the initial ΔW (the weight's own norms for B = 0). */
    @Override
    public NDArray initialMagnitude(Supplier<NDArray> weight, Supplier<NDArray> deltaWeight) {
        return rowNorm(weight.get(), deltaWeight.get());
    }

    /**
     * {@code baseResult} is {@code y} without bias, or {@code xd·Wᵀ} recomputed when dropout changed the input
     * (PEFT does the same).
     */
    @Override
    public NDArray delta(NDArray y, NDArray xd, boolean droppedOut, LoraSlot slot, Supplier<NDArray> weight,
                         NDArray bias) {
        NDArray w = weight.get();
        NDArray norm = rowNorm(w, slot.deltaWeight().stopGradient()).stopGradient();
        NDArray magScale = slot.magnitude().div(norm);                           // [out]
        NDArray baseResult;
        if (droppedOut) {
            baseResult = Linear.linear(xd, w).singletonOrThrow();
        } else {
            baseResult = bias == null ? y : y.sub(bias);
        }
        NDArray lora = slot.loraOut(xd);
        return baseResult.mul(magScale.sub(1)).add(lora.mul(magScale));
    }

    /** {@code (m/‖W+ΔW‖)[:,None] · (W + ΔW)} (PEFT's DoRA merge, norm detached). */
    @Override
    public NDArray merge(NDArray weight, LoraSlot slot) {
        NDArray wd = weight.add(slot.deltaWeight());
        NDArray norm = wd.square().sum(new int[] {1}).sqrt();
        return wd.mul(slot.magnitude().div(norm).reshape(-1, 1));
    }

    @Override
    public boolean readsBaseOutput() {
        return true;
    }

    @Override
    public String toString() {
        return "DoRA";
    }
}
