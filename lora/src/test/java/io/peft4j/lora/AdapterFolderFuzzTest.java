package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.HostileInput;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property-based hostile adapter folders, read through the real load path ({@link PeftModel#loadAdapter} onto a tiny
 * model): valid LoRA and DoRA folders whose weights file is truncated, bit-flipped, spliced or has edge values in its
 * length and offset fields, or whose {@code adapter_config.json} has a field set to an edge value or broken bytes, or
 * a file missing. Each case loads or is refused with a {@link PeftException}, within the {@link HostileInput} limits,
 * and leaves the model without the adapter when refused. {@code -Pfuzz} runs 10,000 cases.
 */
class AdapterFolderFuzzTest {
    private static final String[] CONFIG_EDITS = {"\"r\": 0", "\"r\": -1", "\"r\": 2147483647", "\"r\": 1",
        "\"r\": 4.5", "\"r\": \"8\"", "\"use_dora\": true", "\"use_dora\": false", "\"lora_alpha\": 0",
        "\"lora_alpha\": -3", "\"lora_alpha\": 1e308", "\"lora_dropout\": 1", "\"target_modules\": []",
        "\"target_modules\": \"nothing\"", "\"target_modules\": [\"q_proj\"]", "\"peft_type\": \"IA3\"",
        "\"rank_pattern\": {\"q_proj\": 0}", "\"layers_to_transform\": [99]", "\"bias\": \"all\""};

    private static Path root;
    private static NDManager manager;
    private static LlamaModel model;
    private static PeftModel peft;
    private static byte[][] weights;
    private static String[] configs;

    @BeforeContainer
    static void setUp() throws Exception {
        root = Files.createTempDirectory("fuzz-adapters");
        manager = Peft4j.newManager();
        model = TinyModels.model(manager);
        peft = PeftModel.wrap(model);
        weights = new byte[2][];
        configs = new String[2];
        for (int i = 0; i < 2; i++) {
            Path dir = root.resolve("seed" + i);
            peft.addAdapter("seed", LoraConfig.builder().optR(2 + 2 * i).optLoraAlpha(8).optUseDora(i == 1)
                    .optTargetModules(i == 0 ? TargetModules.of("q_proj", "v_proj") : TargetModules.ALL_LINEAR)
                    .build(), 5L);
            peft.saveAdapter("seed", dir);
            peft.deleteAdapter("seed");
            weights[i] = Files.readAllBytes(dir.resolve("adapter_model.safetensors"));
            configs[i] = Files.readString(dir.resolve("adapter_config.json"));
        }
    }

    @AfterContainer
    static void tearDown() throws IOException {
        peft.close();
        model.close();
        manager.close();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Property
    void loadAdapter_hostileFolder_refusedOrLoaded(@ForAll long seed) throws IOException {
        Random rng = new Random(seed);
        int which = rng.nextInt(2);
        byte[] w = weights[which];
        String config = configs[which];
        Path dir = Files.createDirectories(root.resolve("case"));
        Files.deleteIfExists(dir.resolve("adapter_model.safetensors"));
        Files.deleteIfExists(dir.resolve("adapter_config.json"));
        int kind = rng.nextInt(10);
        if (kind < 5) {
            w = HostileInput.mutate(w, rng);
        } else if (kind < 8) {
            config = editConfig(config, rng);
        } else if (kind == 8) {
            byte[] c = HostileInput.mutate(config.getBytes(StandardCharsets.UTF_8), rng);
            config = null;
            Files.write(dir.resolve("adapter_config.json"), c);
        }
        if (config != null) {
            Files.writeString(dir.resolve("adapter_config.json"), config);
        }
        if (kind != 9 || rng.nextBoolean()) {
            Files.write(dir.resolve("adapter_model.safetensors"), w);
        } else {
            Files.deleteIfExists(dir.resolve("adapter_config.json"));
        }
        HostileInput.Outcome o = HostileInput.check(List.of(PeftException.class), () -> {
            peft.loadAdapter(dir, "fuzz");
        });
        if (o.read()) {
            peft.deleteAdapter("fuzz");
        }
        assertEquals(List.of(), List.copyOf(peft.adapterNames()), "nothing left attached: " + o.refusal());
        assertTrue(o.read() || o.refusal().contains(dir.toString()), "names the folder: " + o.refusal());
    }

    /** Sets one field of the config to an edge value (replacing it when present, adding it otherwise). */
    private static String editConfig(String config, Random rng) {
        String edit = CONFIG_EDITS[rng.nextInt(CONFIG_EDITS.length)];
        String field = edit.substring(0, edit.indexOf(':'));
        String replaced = config.replaceFirst(java.util.regex.Pattern.quote(field) + "\\s*:\\s*(\\[[^\\]]*\\]|\\{[^}]*\\}"
                + "|\"[^\"]*\"|[^,}\\s]+)", java.util.regex.Matcher.quoteReplacement(edit));
        return replaced.equals(config) ? config.replaceFirst("\\{", "{" + java.util.regex.Matcher.quoteReplacement(edit)
                + ",") : replaced;
    }
}
