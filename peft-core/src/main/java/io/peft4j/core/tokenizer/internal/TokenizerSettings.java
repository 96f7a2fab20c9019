package io.peft4j.core.tokenizer.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What transformers reads beside {@code tokenizer.json}: the named special tokens ({@code special_tokens_map.json}
 * wins over {@code tokenizer_config.json}, as in transformers), extra special tokens, the tokenizer class and its
 * {@code legacy}/{@code add_prefix_space} flags, and the chat template ({@code chat_template.jinja} wins over the
 * config's {@code chat_template}, whose list form yields the template named "default").
 *
 * @param bos           BOS token string or null
 * @param eos           EOS token string or null
 * @param unk           unknown token string or null
 * @param pad           padding token string or null
 * @param extraSpecial  {@code additional_special_tokens} / {@code extra_special_tokens}
 * @param tokenizerClass {@code tokenizer_class} or null
 * @param legacy        the {@code legacy} flag (transformers' LlamaTokenizer defaults to false)
 * @param addPrefixSpace the {@code add_prefix_space} flag, null when absent
 * @param chatTemplate  Jinja chat template or null
 */
public record TokenizerSettings(String bos, String eos, String unk, String pad, List<String> extraSpecial,
                                String tokenizerClass, boolean legacy, Boolean addPrefixSpace, String chatTemplate) {

    public TokenizerSettings {
        extraSpecial = List.copyOf(extraSpecial);
    }

    /** No configuration files: nothing beyond what tokenizer.json says. */
    public static TokenizerSettings none() {
        return new TokenizerSettings(null, null, null, null, List.of(), null, false, null, null);
    }

    /** Reads the optional files in {@code folder}; a present but malformed file is an error naming it. */
    public static TokenizerSettings read(Path folder) throws CheckpointFormatException {
        JsonNode config = readJson(folder.resolve("tokenizer_config.json"));
        JsonNode map = readJson(folder.resolve("special_tokens_map.json"));
        String template = readTemplateFile(folder.resolve("chat_template.jinja"));
        if (template == null) {
            template = chatTemplate(config.get("chat_template"));
        }
        List<String> extra = new ArrayList<>();
        for (String key : List.of("additional_special_tokens", "extra_special_tokens")) {
            addTokens(config.get(key), extra);
            addTokens(map.get(key), extra);
        }
        JsonNode prefix = config.get("add_prefix_space");
        return new TokenizerSettings(named(config, map, "bos_token"), named(config, map, "eos_token"),
                named(config, map, "unk_token"), named(config, map, "pad_token"), extra,
                text(config.get("tokenizer_class")), config.path("legacy").asBoolean(false),
                prefix == null || prefix.isNull() ? null : prefix.asBoolean(), template);
    }

    /** {@code chat_template} as a string, or the entry named "default" of its list-of-templates form. */
    public static String chatTemplate(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode entry : node) {
                if ("default".equals(entry.path("name").asText(null))) {
                    return text(entry.get("template"));
                }
            }
        }
        return null;
    }

    private static String named(JsonNode config, JsonNode map, String key) {
        String fromMap = text(map.get(key));
        return fromMap != null ? fromMap : text(config.get(key));
    }

    /** A token given as a string or as an AddedToken object {@code {"content": ...}}. */
    private static String text(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isObject()) {
            return text(node.get("content"));
        }
        return node.isTextual() ? node.asText() : null;
    }

    private static void addTokens(JsonNode node, List<String> out) {
        if (node != null && node.isArray()) {
            for (JsonNode t : node) {
                String s = text(t);
                if (s != null && !out.contains(s)) {
                    out.add(s);
                }
            }
        }
    }

    private static JsonNode readJson(Path file) throws CheckpointFormatException {
        if (!Files.isRegularFile(file)) {
            return Json.MAPPER.createObjectNode();
        }
        try {
            JsonNode node = Json.MAPPER.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new CheckpointFormatException(file, "expected a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "unreadable JSON: " + e.getMessage(), e);
        }
    }

    private static String readTemplateFile(Path file) throws CheckpointFormatException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "unreadable chat template: " + e.getMessage(), e);
        }
    }
}
