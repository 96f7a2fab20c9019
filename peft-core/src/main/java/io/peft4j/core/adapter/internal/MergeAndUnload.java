package io.peft4j.core.adapter.internal;

import io.peft4j.core.adapter.Adapter;
import ai.djl.ndarray.NDArray;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.model.CausalLM;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The body of {@link io.peft4j.core.adapter.PeftModel#mergeAndUnload()} (run under its write lock, adapters already merged): projections
 * the merged adapters change become plain {@link DenseLinear}s with the effective weights, active weight overrides
 * (trainable copies of embedding / norms) are written into the stored weights, and the adapters are closed.
 */
public final class MergeAndUnload {
    private MergeAndUnload() {
    }

    public static void run(CausalLM model, Collection<Adapter> adapters) {
        bakeWeightOverrides(model);
        Map<String, NDArray[]> merged = new LinkedHashMap<>();
        for (Adapter a : adapters) {
            if (a.isMerged()) {
                for (String path : a.modulePaths()) {
                    LinearLayer l = model.linearLayers().get(path);
                    if (l != null) {       // null: not a projection (e.g. an embedding copy, baked above)
                        NDArray bias = l.bias() == null ? null : l.bias().duplicate();
                        merged.put(path, new NDArray[] {l.denseWeight(model.manager()), bias});
                    }
                }
            }
        }
        adapters.forEach(Adapter::close);
        NDArray embedding = model.otherWeights().get("model.embed_tokens.weight");
        for (Map.Entry<String, NDArray[]> e : merged.entrySet()) {
            NDArray[] wb = e.getValue();
            if (wb[1] != null) {
                wb[1].setRequiresGradient(false);
            }
            LinearLayer old = model.replaceLinear(e.getKey(), new DenseLinear(wb[0], wb[1]));
            if (!old.tiedTo(embedding)) {   // a tied lm_head owns no weight
                old.close();
            }
        }
    }

    /** Writes the values of active weight overrides into the stored weights, in place and exactly. */
    private static void bakeWeightOverrides(CausalLM model) {
        model.otherWeights().forEach((name, stored) -> {
            Supplier<NDArray> override = model.weightOverride(name);
            NDArray value = override == null ? null : override.get();
            if (value != null) {
                stored.subi(stored).addi(value);   // in place: the stored array may be shared (tied lm_head)
            }
        });
    }
}
