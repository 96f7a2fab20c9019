package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.model.CausalLM;
import io.peft4j.lora.internal.LoraAdapter;
import io.peft4j.lora.internal.LoraAdapters;
import io.peft4j.lora.internal.LoraTensorCheck;
import io.peft4j.lora.internal.ModuleCopies;
import io.peft4j.lora.internal.ModulesToSave;
import io.peft4j.lora.internal.ModulesToSaveLinear;
import io.peft4j.lora.internal.TargetSelector;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The LoRA {@link AdapterMethod} (peft_type {@code LORA}), registered through {@code META-INF/services}: selects
 * target projections and wraps each in a {@link LoraLinear}, reusing a wrapper another adapter already put there;
 * {@code modules_to_save} modules get trainable full copies (see {@code internal.ModulesToSave}).
 * Stateless and thread-safe.
 *
 * <pre>{@code
 * PeftModel peft = PeftModel.wrap(model);
 * peft.addAdapter("default", LoraConfig.builder().optTargetModules(TargetModules.ALL_LINEAR).build(), 42L);
 * System.err.println(peft.trainableParameters());
 * }</pre>
 *
 * @since 0.1.0
 */
public final class LoraMethod implements AdapterMethod {

    @Override
    public String peftType() {
        return LoraConfig.PEFT_TYPE;
    }

    @Override
    public Class<? extends AdapterConfig> configType() {
        return LoraConfig.class;
    }

    @Override
    public Adapter attach(CausalLM model, String name, AdapterConfig config, long seed) {
        if (!(config instanceof LoraConfig lora)) {
            throw new IllegalArgumentException("LoRA cannot attach a " + config.peftType() + " config");
        }
        List<String> paths = TargetSelector.select(lora, model.linearLayers().keySet(), model.config().modelType());
        ModulesToSave.select(model, lora.modulesToSave() == null ? List.of() : lora.modulesToSave(), Set.copyOf(paths));
        Map<String, LoraLinear> layers = new LinkedHashMap<>();
        try {
            for (String path : paths) {
                LinearLayer current = model.linearLayers().get(path);
                LoraLinear wrapper;
                long layerSeed = LoraAdapters.layerSeed(seed, name, path);
                if (current instanceof ModulesToSaveLinear) {
                    throw new IllegalArgumentException(path + " is a modules_to_save copy of another adapter; "
                            + "it cannot also carry LoRA");
                }
                if (current instanceof LoraLinear existing) {
                    wrapper = existing;
                    wrapper.addAdapter(name, lora, layerSeed);
                } else {
                    wrapper = new LoraLinear(path, current, model.manager());
                    try {
                        wrapper.addAdapter(name, lora, layerSeed);
                    } catch (RuntimeException e) {
                        wrapper.close();
                        throw e;
                    }
                    model.replaceLinear(path, wrapper);
                }
                layers.put(path, wrapper);
            }
        } catch (RuntimeException e) {
            new LoraAdapter(model, name, lora, layers, Map.of(), Map.of()).close();
            throw e;
        }
        Map<String, ModuleCopies> copies;
        try {
            copies = ModulesToSave.attach(model, name, lora, layers.keySet());
        } catch (RuntimeException e) {
            new LoraAdapter(model, name, lora, layers, Map.of(), Map.of()).close();
            throw e;
        }
        Map<String, NDArray> biases = LoraAdapters.trainableBiases(lora.bias(), model, layers.keySet());
        return new LoraAdapter(model, name, lora, layers, biases, copies);
    }

    /** A saved LoRA adapter against its config: A/B pairs, ranks (rank_pattern included), DoRA magnitudes. */
    @Override
    public List<String> checkTensors(AdapterConfig config, Map<String, long[]> shapes) {
        if (!(config instanceof LoraConfig lora)) {
            throw new IllegalArgumentException("LoRA cannot check a " + config.peftType() + " config");
        }
        return LoraTensorCheck.check(lora, shapes);
    }
}
