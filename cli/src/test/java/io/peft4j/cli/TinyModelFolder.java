package io.peft4j.cli;

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

/** A tiny random dense Hugging Face folder (config.json, model.safetensors, a WordLevel tokenizer over "a" to "g"). */
final class TinyModelFolder {
    /** 2 layers, hidden 64, 4 heads, 2 kv heads, vocab 8, tied embeddings. */
    static final ModelConfig TINY = new ModelConfig("LlamaForCausalLM", "llama", 8, 64, 128, 2, 4, 2, 16,
            1e-5, 10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);

    private TinyModelFolder() {
    }

    /** Writes {@code LlamaModel.random(config, seed)} into {@code dir} and returns {@code dir}. */
    static Path write(Path dir, ModelConfig config, long seed) throws Exception {
        return write(dir, config, seed, arrays -> { });
    }

    /** As {@link #write(Path, ModelConfig, long)}, letting {@code edit} change the named weights before they are saved. */
    static Path write(Path dir, ModelConfig config, long seed,
                      java.util.function.Consumer<Map<String, NDArray>> edit) throws Exception {
        Files.createDirectories(dir);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(config, seed, m)) {
            Map<String, NDArray> arrays = new LinkedHashMap<>(model.otherWeights());
            model.linearLayers().forEach((p, l) -> {
                if (!"lm_head".equals(p)) {
                    arrays.put(p + ".weight", l.denseWeight(m));
                }
            });
            edit.accept(arrays);
            SafetensorsWriter.writeArrays(dir.resolve("model.safetensors"), arrays, Map.of("format", "pt"));
        }
        Json.MAPPER.writeValue(dir.resolve("config.json").toFile(), config.toHfConfig());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"model\":{\"type\":\"WordLevel\","
                + "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7},"
                + "\"unk_token\":\"<unk>\"},"
                + "\"pre_tokenizer\":{\"type\":\"Whitespace\"}}");
        return dir;
    }
}
