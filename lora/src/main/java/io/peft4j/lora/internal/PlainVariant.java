package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;

import java.util.function.Supplier;

/** Plain LoRA (Hu et al. 2021, arXiv:2106.09685): {@code y += B(A(x))·scale}, merge {@code W + scale·B·A}. */
final class PlainVariant implements LoraVariant {
    @Override
    public NDArray initialMagnitude(Supplier<NDArray> weight, Supplier<NDArray> deltaWeight) {
        return null;
    }

    @Override
    public NDArray delta(NDArray y, NDArray xd, boolean droppedOut, LoraSlot slot, Supplier<NDArray> weight,
                         NDArray bias) {
        return slot.loraOut(xd);
    }

    @Override
    public NDArray merge(NDArray weight, LoraSlot slot) {
        return weight.add(slot.deltaWeight());
    }

    @Override
    public boolean readsBaseOutput() {
        return false;
    }

    @Override
    public String toString() {
        return "LoRA";
    }
}
