package io.peft4j.core.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.Json;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.model.llama.LlamaModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny random dense Hugging Face folder (config.json, model.safetensors, tokenizer.json) for tests that load a model
 * the way users do: 2 layers, hidden 64, 4 heads (2 kv), context 128, a lower-casing WordLevel tokenizer over a few
 * English words (anything else is {@code <unk>}), so prompts tokenize to real ids.
 *
 * <pre>{@code
 * Path model = TinyHfFolder.write(tmp.resolve("model"), 7);
 * try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) { ... }
 * }</pre>
 */
public final class TinyHfFolder {
    /** The vocabulary, id = index. */
    public static final String[] WORDS = {"<unk>", "the", "capital", "of", "france", "is", "paris", "hello", "list", "all",
        "users", "a", "b", "c", "d", "e", "red", "blue", "green", "one", "two", "three"};
    /** The model's config. */
    public static final ModelConfig CONFIG = new ModelConfig("LlamaForCausalLM", "llama", WORDS.length, 64, 128, 2, 4, 2, 16,
            1e-5, 10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);

    private TinyHfFolder() {
    }

    /** Writes {@code LlamaModel.random(CONFIG, seed)} with its tokenizer into {@code dir}. */
    public static Path write(Path dir, long seed) throws Exception {
        Files.createDirectories(dir);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(CONFIG, seed, m)) {
            Map<String, NDArray> arrays = new LinkedHashMap<>(model.otherWeights());
            model.linearLayers().forEach((p, l) -> {
                if (!"lm_head".equals(p)) {
                    arrays.put(p + ".weight", l.denseWeight(m));
                }
            });
            SafetensorsWriter.writeArrays(dir.resolve("model.safetensors"), arrays, Map.of("format", "pt"));
        }
        Json.MAPPER.writeValue(dir.resolve("config.json").toFile(), CONFIG.toHfConfig());
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < WORDS.length; i++) {
            vocab.append(i == 0 ? "" : ",").append('"').append(WORDS[i]).append("\":").append(i);
        }
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"model\":{\"type\":\"WordLevel\","
                + "\"vocab\":{" + vocab + "},\"unk_token\":\"<unk>\"},"
                + "\"normalizer\":{\"type\":\"Lowercase\"},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}");
        return dir;
    }
}
