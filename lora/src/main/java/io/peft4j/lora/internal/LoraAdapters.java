package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.model.CausalLM;
import io.peft4j.lora.LoraBias;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/** Seeds and bias handling for {@code LoraMethod.attach}. */
public final class LoraAdapters {
    private LoraAdapters() {
    }

    /** A per-layer seed that depends on the run seed, adapter name and module path, not on iteration order. */
    public static long layerSeed(long seed, String name, String path) {
        return new SplittableRandom(seed ^ (31L * path.hashCode() + name.hashCode()) * 0x9E3779B97F4A7C15L).nextLong();
    }

    /**
     * PEFT's {@code bias}: {@link LoraBias#NONE} trains no bias; {@link LoraBias#LORA_ONLY} the biases of LoRA-wrapped
     * projections (saved as {@code <path>.base_layer.bias}, PEFT's live name); {@link LoraBias#ALL} every projection
     * bias.
     */
    public static Map<String, NDArray> trainableBiases(LoraBias mode, CausalLM model, Set<String> wrapped) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        if (mode == LoraBias.NONE) {
            return out;
        }
        for (Map.Entry<String, LinearLayer> e : model.linearLayers().entrySet()) {
            boolean isWrapped = wrapped.contains(e.getKey());
            NDArray b = e.getValue().bias();
            if (b != null && (isWrapped || mode == LoraBias.ALL)) {
                b.setRequiresGradient(true);
                out.put(e.getKey() + (isWrapped ? ".base_layer.bias" : ".bias"), b);
            }
        }
        return out;
    }
}
