package io.peft4j.lora.internal;

import io.peft4j.lora.LoraConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a saved LoRA adapter's tensors must satisfy given only its {@code adapter_config.json}: every module has
 * {@code lora_A.weight} [r, in] and {@code lora_B.weight} [out, r] with r its configured rank ({@code rank_pattern}
 * included), and with {@code use_dora} a {@code lora_magnitude_vector} [out] (and none without). Stateless.
 *
 * <pre>{@code
 * List<String> problems = LoraTensorCheck.check(config, Map.of("base_model.model.q.lora_A.weight", new long[] {4, 8}));
 * }</pre>
 */
public final class LoraTensorCheck {
    private static final String PREFIX = "base_model.model.";
    private static final String A = ".lora_A.weight";
    private static final String B = ".lora_B.weight";
    private static final String M = ".lora_magnitude_vector";

    private LoraTensorCheck() {
    }

    /** The problems found (empty when consistent), each naming the saved key. */
    public static List<String> check(LoraConfig config, Map<String, long[]> shapes) {
        List<String> problems = new ArrayList<>();
        Map<String, long[][]> modules = new TreeMap<>(); // module path -> {A, B, magnitude}
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String key = e.getKey().startsWith(PREFIX) ? e.getKey().substring(PREFIX.length()) : e.getKey();
            if (key.contains(".modules_to_save.") || isModuleCopy(config, key)) {
                continue; // a full copy of a module: its shape depends on the base model only
            }
            int slot = key.endsWith(A) ? 0 : key.endsWith(B) ? 1 : key.endsWith(M) ? 2 : -1;
            if (slot < 0) {
                problems.add("unexpected tensor " + e.getKey());
                continue;
            }
            String module = key.substring(0, key.length() - (slot == 0 ? A : slot == 1 ? B : M).length());
            modules.computeIfAbsent(module, k -> new long[3][])[slot] = e.getValue();
        }
        modules.forEach((module, t) -> checkModule(config, module, t, problems));
        return problems;
    }

    /** {@code <module>.weight|bias} of a {@code modules_to_save} entry (PEFT's plain {@code endswith} rule), as PEFT saves it. */
    private static boolean isModuleCopy(LoraConfig config, String key) {
        int dot = key.lastIndexOf('.');
        if (dot < 0 || !(key.endsWith(".weight") || key.endsWith(".bias"))) {
            return false;
        }
        String module = key.substring(0, dot);
        List<String> targets = config.modulesToSave();
        return targets != null && targets.stream().anyMatch(module::endsWith);
    }

    private static void checkModule(LoraConfig config, String module, long[][] t, List<String> problems) {
        String key = PREFIX + module;
        if (t[0] == null || t[1] == null) {
            problems.add("missing " + key + (t[0] == null ? A : B));
            return;
        }
        int rank = config.rankFor(module);
        if (t[0].length != 2 || t[0][0] != rank) {
            problems.add(key + A + " has shape " + Arrays.toString(t[0]) + ", the config's rank " + rank
                    + " needs [" + rank + ", in]");
        }
        if (t[1].length != 2 || t[1][1] != rank) {
            problems.add(key + B + " has shape " + Arrays.toString(t[1]) + ", the config's rank " + rank
                    + " needs [out, " + rank + "]");
        }
        if (config.useDora() && t[2] == null) {
            problems.add("missing " + key + M + " (use_dora is true)");
        } else if (!config.useDora() && t[2] != null) {
            problems.add("unexpected " + key + M + " (use_dora is false)");
        } else if (t[2] != null && t[1].length == 2 && (t[2].length != 1 || t[2][0] != t[1][0])) {
            problems.add(key + M + " has shape " + Arrays.toString(t[2]) + ", needs [" + t[1][0] + "] (out)");
        }
    }
}
