package io.peft4j.lora.internal;

import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Chooses the projections a {@link LoraConfig} targets, following PEFT's {@code check_target_module_exists}:
 * {@code exclude_modules} first, then a full-match regex or a name/suffix list, then {@code layers_to_transform}
 * (list targets only) with the layer index taken from {@code layers_pattern} (or any {@code .name.N.} segment).
 * {@code all-linear} means every projection except the output layer {@code lm_head}.
 *
 * <pre>{@code
 * List<String> paths = TargetSelector.select(config, model.linearLayers().keySet(), "llama");
 * }</pre>
 */
public final class TargetSelector {
    /** The output layer, never chosen by {@code all-linear}. */
    public static final String OUTPUT_LAYER = "lm_head";
    private static final Pattern ANY_LAYER = Pattern.compile(".*\\.[^.]*\\.(\\d+)\\.");

    private TargetSelector() {
    }

    /** PEFT's default targets when {@code target_modules} is null (llama-family models: q_proj, v_proj). */
    public static TargetModules defaultTargets(String modelType) {
        return TargetModules.of("q_proj", "v_proj");
    }

    /**
     * Module paths (in model order) the config targets.
     *
     * @throws IllegalArgumentException when nothing matches, listing the projection names the model has
     */
    public static List<String> select(LoraConfig config, Collection<String> paths, String modelType) {
        TargetModules target = config.targetModules() == null ? defaultTargets(modelType) : config.targetModules();
        if (target.isAllLinear()) {
            Set<String> leaves = new LinkedHashSet<>();
            paths.stream().filter(p -> !isOutputLayer(p)).forEach(p -> leaves.add(leaf(p)));
            target = new TargetModules(new ArrayList<>(leaves), null);
        }
        List<String> out = new ArrayList<>();
        for (String path : paths) {
            if (config.excludeModules() != null && config.excludeModules().matches(path)) {
                continue;
            }
            if (target.isAllLinear() || !target.matches(path)) {
                continue;
            }
            if (target.names() != null && !inLayers(config, path)) {
                continue;
            }
            out.add(path);
        }
        if (out.isEmpty()) {
            Set<String> leaves = new LinkedHashSet<>();
            paths.forEach(p -> leaves.add(leaf(p)));
            throw new IllegalArgumentException("LoRA target_modules " + target.toJson() + " matched no projection"
                    + (config.layersToTransform() == null ? "" : " in layers " + config.layersToTransform())
                    + "; the model's linear modules are " + leaves);
        }
        return out;
    }

    static boolean isOutputLayer(String path) {
        return path.equals(OUTPUT_LAYER) || path.endsWith("." + OUTPUT_LAYER);
    }

    private static String leaf(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? path : path.substring(dot + 1);
    }

    private static boolean inLayers(LoraConfig config, String path) {
        List<Integer> wanted = config.layersToTransform();
        if (wanted == null || wanted.isEmpty()) {
            return true;
        }
        Integer index = null;
        List<String> patterns = config.layersPattern();
        if (patterns == null || patterns.isEmpty()) {
            index = layerIndex(ANY_LAYER, path);
        } else {
            for (String p : patterns) {
                index = layerIndex(Pattern.compile(".*\\." + p + "\\.(\\d+)\\."), path);
                if (index != null) {
                    break;
                }
            }
        }
        return index != null && wanted.contains(index);
    }

    private static Integer layerIndex(Pattern pattern, String path) {
        Matcher m = pattern.matcher(path);
        return m.lookingAt() ? Integer.valueOf(m.group(1)) : null;
    }
}
