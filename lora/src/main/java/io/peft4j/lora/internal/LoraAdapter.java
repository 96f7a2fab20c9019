package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.model.CausalLM;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.LoraLinear;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One named LoRA adapter spread over the {@link LoraLinear} wrappers of a model. Created by
 * {@code LoraMethod.attach}; driven by {@code PeftModel}, which serialises calls.
 *
 * <pre>{@code
 * Adapter a = new LoraMethod().attach(model, "default", config, 42L);
 * a.setActive(true);
 * a.stateDict().keySet();   // model.layers.0.self_attn.q_proj.lora_A.weight, ...
 * }</pre>
 */
public final class LoraAdapter implements Adapter {
    private final CausalLM model;
    private final String name;
    private final LoraConfig config;
    private final Map<String, LoraLinear> layers;   // module path -> wrapper holding this adapter
    private final Map<String, NDArray> biases;      // saved key -> trainable bias (bias = all | lora_only)
    private final Map<String, ModuleCopies> copies; // modules_to_save path -> its copies (this adapter's among them)
    private boolean active;
    private boolean merged;

    public LoraAdapter(CausalLM model, String name, LoraConfig config, Map<String, LoraLinear> layers,
                Map<String, NDArray> biases, Map<String, ModuleCopies> copies) {
        this.model = model;
        this.name = name;
        this.config = config;
        this.layers = layers;
        this.biases = biases;
        this.copies = new LinkedHashMap<>(copies);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LoraConfig config() {
        return config;
    }

    @Override
    public Set<String> modulePaths() {
        Set<String> out = new LinkedHashSet<>(layers.keySet());
        out.addAll(copies.keySet());
        return out;
    }

    @Override
    public List<NDArray> trainableParameters() {
        List<NDArray> out = new ArrayList<>();
        for (LoraLinear l : layers.values()) {
            out.addAll(l.adapterWeights(name).values());
        }
        out.addAll(biases.values());
        copies.values().forEach(c -> out.addAll(c.arrays(name).values()));
        return out;
    }

    @Override
    public long parameterCount() {
        return trainableParameters().stream().mapToLong(NDArray::size).sum();
    }

    @Override
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        layers.forEach((path, l) -> l.adapterWeights(name).forEach((k, v) -> out.put(path + "." + k, v)));
        out.putAll(biases);
        copies.forEach((path, c) -> c.arrays(name).forEach((k, v) -> out.put(path + "." + k, v)));
        return out;
    }

    @Override
    public void onStateLoaded() {
        if (merged) {
            layers.values().forEach(LoraLinear::refreshMerged);
        }
    }

    @Override
    public void setActive(boolean on) {
        layers.values().forEach(l -> l.setActive(name, on));
        copies.values().forEach(c -> c.setActive(name, on));
        active = on;
        if (!on) {
            merged = false;
        }
    }

    @Override
    public boolean isActive() {
        return active;
    }

    @Override
    public void setEnabled(boolean enabled) {
        layers.values().forEach(l -> l.setEnabled(enabled));
        copies.values().forEach(c -> c.setEnabled(enabled));
    }

    @Override
    public void setTraining(boolean training) {
        layers.values().forEach(l -> l.setTraining(training));
    }

    /** LoRA layers apply each adapter to the rows a mixed batch routes to it ({@code LoraLinear}). */
    @Override
    public boolean supportsMixedBatch() {
        return true;
    }

    @Override
    public boolean isMergeable() {
        return true;
    }

    @Override
    public void merge() {
        layers.values().forEach(l -> l.merge(name));
        merged = true;
    }

    @Override
    public void unmerge() {
        layers.values().forEach(l -> l.unmerge(name));
        merged = false;
    }

    @Override
    public boolean isMerged() {
        return merged;
    }

    /** Removes this adapter from every wrapper; a wrapper left empty is swapped back for its base projection. */
    @Override
    public void close() {
        layers.forEach((path, l) -> {
            if (l.removeAdapter(name)) {
                LinearLayer replaced = model.replaceLinear(path, l.base());
                if (replaced != l) {
                    throw new IllegalStateException(path + " was replaced behind the adapter's back");
                }
                l.close();
            }
        });
        biases.values().forEach(b -> b.setRequiresGradient(false));
        layers.clear();
        copies.values().forEach(c -> c.remove(name));
        copies.clear();
    }
}
