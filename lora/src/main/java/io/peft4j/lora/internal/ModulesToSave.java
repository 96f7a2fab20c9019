package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.model.CausalLM;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.LoraLinear;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * PEFT's {@code modules_to_save} for a LoRA adapter: every module whose name ends with a listed string (PEFT's
 * plain {@code key.endswith(target)} over the model's module names) gets a trainable full copy, saved as
 * {@code base_model.model.<module>.weight} (and {@code .bias}). Supported modules: projections and lm_head (through
 * the {@link LinearLayer} seam, tied or not), {@code model.embed_tokens} and the RMSNorms (through
 * {@code CausalLM.overrideWeight}). A name that matches nothing or matches another module (a container such as
 * {@code self_attn}, or one the adapter also targets with LoRA) is refused, naming the module.
 *
 * <pre>{@code
 * Map<String, ModuleCopies> copies = ModulesToSave.attach(model, "default", config, loraPaths);
 * copies.get("lm_head").setActive("default", true);
 * }</pre>
 */
public final class ModulesToSave {
    private static final String WEIGHT = ".weight";

    private ModulesToSave() {
    }

    /** Adds {@code adapter}'s copies (inactive) to the matched modules; module path to copies. */
    public static Map<String, ModuleCopies> attach(CausalLM model, String adapter, LoraConfig config,
                                                   Set<String> loraPaths) {
        List<String> targets = config.modulesToSave();
        Map<String, ModuleCopies> out = new LinkedHashMap<>();
        if (targets == null || targets.isEmpty()) {
            return out;
        }
        if (Boolean.TRUE.equals(config.extraFields().get("ensure_weight_tying"))) {
            throw new IllegalArgumentException("modules_to_save with ensure_weight_tying=true is not supported");
        }
        try {
            for (String path : select(model, targets, loraPaths)) {
                out.put(path, model.linearLayers().containsKey(path) ? linearCopies(model, adapter, config, path)
                        : weightCopies(model, adapter, path));
            }
        } catch (RuntimeException e) {
            out.values().forEach(c -> c.remove(adapter));
            throw e;
        }
        return out;
    }

    /** Module paths matched by {@code targets}, in model order; refuses what cannot be copied (see class doc). */
    public static List<String> select(CausalLM model, List<String> targets, Set<String> loraPaths) {
        Set<String> supported = new LinkedHashSet<>(model.linearLayers().keySet());
        model.otherWeights().keySet().forEach(w -> supported.add(w.substring(0, w.length() - WEIGHT.length())));
        List<String> out = new ArrayList<>();
        for (String target : targets) {
            String container = containers(supported).stream().filter(p -> p.endsWith(target)).findFirst()
                    .orElse(null);
            if (container != null) {
                throw new IllegalArgumentException("modules_to_save '" + target + "' matches module '" + container
                        + "', which peft4j cannot copy as a whole; name the modules that hold weights instead");
            }
            List<String> hits = supported.stream().filter(p -> p.endsWith(target)).toList();
            if (hits.isEmpty()) {
                throw new IllegalArgumentException("modules_to_save '" + target + "' matches no module peft4j can "
                        + "copy (projections, lm_head, model.embed_tokens, *_layernorm, model.norm)");
            }
            for (String hit : hits) {
                if (loraPaths.contains(hit)) {
                    throw new IllegalArgumentException("modules_to_save '" + target + "' matches " + hit
                            + ", which the same adapter targets with LoRA");
                }
                if (!out.contains(hit)) {
                    out.add(hit);
                }
            }
        }
        return supported.stream().filter(out::contains).toList();
    }

    /** The parents of every module path (model, model.layers, model.layers.0, ...self_attn, ...mlp). */
    private static Set<String> containers(Set<String> modules) {
        Set<String> out = new LinkedHashSet<>();
        for (String m : modules) {
            for (int i = m.indexOf('.'); i > 0; i = m.indexOf('.', i + 1)) {
                out.add(m.substring(0, i));
            }
        }
        out.removeAll(modules);
        return out;
    }

    private static ModuleCopies linearCopies(CausalLM model, String adapter, LoraConfig config, String path) {
        LinearLayer current = model.linearLayers().get(path);
        ModuleCopies copies;
        LinearLayer base;
        boolean fresh = !(current instanceof ModulesToSaveLinear);
        if (current instanceof ModulesToSaveLinear existing) {
            copies = existing.copies();
            base = existing.base();
        } else if (current instanceof LoraLinear) {
            throw new IllegalArgumentException("modules_to_save " + path + " already carries LoRA of another adapter");
        } else {
            base = current;
            copies = new ModuleCopies(path, model.manager(), () -> model.replaceLinear(path, current));
        }
        if (base.bias() != null && !"none".equals(config.bias())) {
            throw new IllegalArgumentException("modules_to_save " + path + " has a bias; use bias=none with it");
        }
        NDArray w = base.denseWeight(copies.manager());
        try {
            copies.add(adapter, w, base.bias());
        } finally {
            w.close();
        }
        if (fresh) {
            model.replaceLinear(path, new ModulesToSaveLinear(base, copies));
        }
        return copies;
    }

    private static ModuleCopies weightCopies(CausalLM model, String adapter, String path) {
        String name = path + WEIGHT;
        Supplier<NDArray> current = model.weightOverride(name);
        ModuleCopies copies;
        if (current instanceof ModuleCopies existing) {
            copies = existing;
        } else if (current == null) {
            copies = new ModuleCopies(path, model.manager(), () -> model.overrideWeight(name, null));
            model.overrideWeight(name, copies);
        } else {
            throw new IllegalArgumentException("modules_to_save " + path + ": its weight is already replaced by "
                    + current.getClass().getSimpleName());
        }
        copies.add(adapter, model.otherWeights().get(name), null);
        return copies;
    }
}
