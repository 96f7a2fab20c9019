package io.peft4j.core.adapter;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.PeftException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code adapter_config.json} of one adapter, with PEFT's field names. Polymorphic on {@code peft_type}: each
 * {@link AdapterMethod} found through {@link java.util.ServiceLoader} contributes its config type, so peft-core
 * never names a method. Fields this version does not know are kept in {@link #extraFields()} and written back.
 * Implementations are immutable records.
 *
 * <pre>{@code
 * AdapterConfig config = AdapterConfig.read(dir.resolve("adapter_config.json"));
 * String type = config.peftType();                // e.g. "LORA"
 * String json = config.toJson();                  // unknown fields included
 * }</pre>
 *
 * @since 0.1.0
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.EXISTING_PROPERTY, property = "peft_type",
        visible = true)
public interface AdapterConfig {

    /** PEFT's {@code peft_type}, e.g. {@code LORA}. */
    String peftType();

    /** {@code base_model_name_or_path}, or {@code null}. */
    String baseModelNameOrPath();

    /** Fields of the JSON file this config type does not model, in file order; written back unchanged. */
    Map<String, Object> extraFields();

    /**
     * JSON field names of this method's headline settings, shown by {@code peft4j inspect --adapter} (LoRA:
     * {@code r}, {@code lora_alpha}, {@code target_modules}, ...). None by default.
     */
    default java.util.List<String> summaryFields() {
        return java.util.List.of();
    }

    /** This config as pretty JSON with PEFT's field names. */
    default String toJson() {
        return AdapterConfigMapper.write(this);
    }

    /** Parses {@code adapter_config.json}; the file is named in errors (unknown {@code peft_type}, bad field). */
    static AdapterConfig read(Path file) throws PeftException {
        return AdapterConfigMapper.read(file);
    }

    /** Parses config JSON text; {@code source} names it in errors. */
    static AdapterConfig fromJson(String json, String source) throws PeftException {
        return AdapterConfigMapper.parse(json, source);
    }

    /** Converts a JSON tree (e.g. from a CLI or a test) into the config type registered for its {@code peft_type}. */
    static AdapterConfig fromTree(JsonNode tree, String source) throws PeftException {
        return AdapterConfigMapper.fromTree(tree, source);
    }

    /** Writes this config to {@code file} as UTF-8 JSON (not atomic by itself; callers write into a temp folder). */
    default void write(Path file) throws IOException {
        AdapterConfigMapper.writeFile(this, file);
    }
}
