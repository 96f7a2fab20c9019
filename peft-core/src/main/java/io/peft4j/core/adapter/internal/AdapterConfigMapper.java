package io.peft4j.core.adapter.internal;

import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.AdapterMethod;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Jackson mapper for {@link AdapterConfig} with one named subtype per {@link AdapterMethod} on the class path. */
public final class AdapterConfigMapper {
    private static volatile ObjectMapper mapper;

    private AdapterConfigMapper() {
    }

    public static ObjectMapper mapper() {
        ObjectMapper m = mapper;
        if (m == null) {
            synchronized (AdapterConfigMapper.class) {
                if (mapper == null) {
                    ObjectMapper copy = Json.MAPPER.copy();
                    for (AdapterMethod method : AdapterMethod.all()) {
                        copy.registerSubtypes(new NamedType(method.configType(), method.peftType()));
                    }
                    mapper = copy;
                }
                m = mapper;
            }
        }
        return m;
    }

    public static AdapterConfig read(Path file) throws PeftException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PeftException(file + ": cannot read adapter config: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    public static AdapterConfig parse(String json, String source) throws PeftException {
        try {
            return fromTree(mapper().readTree(json), source);
        } catch (JsonProcessingException e) {
            throw new PeftException(source + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    public static AdapterConfig fromTree(JsonNode tree, String source) throws PeftException {
        if (tree == null || !tree.isObject()) {
            throw new PeftException(source + ": adapter config must be a JSON object");
        }
        JsonNode type = tree.get("peft_type");
        if (type == null || !type.isTextual()) {
            throw new PeftException(source + ": field 'peft_type' is missing");
        }
        try {
            return mapper().treeToValue(tree, AdapterConfig.class);
        } catch (InvalidTypeIdException e) {
            throw new PeftException(source + ": unsupported peft_type '" + type.asText() + "' (supported: "
                    + AdapterMethod.supportedTypes() + ")", e);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
                msg = cause.getMessage();
            }
            throw new PeftException(source + ": invalid adapter config: " + msg, e);
        }
    }

    /** PEFT writes {@code adapter_config.json} with sorted keys and 2-space indent; so do we. */
    public static String write(AdapterConfig config) {
        try {
            JsonNode tree = mapper().valueToTree(config);
            ObjectNode sorted = mapper().createObjectNode();
            List<String> names = new ArrayList<>();
            tree.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            names.forEach(n -> sorted.set(n, tree.get(n)));
            return mapper().writeValueAsString(sorted);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + config.peftType() + " config", e);
        }
    }

    public static void writeFile(AdapterConfig config, Path file) throws IOException {
        Files.writeString(file, write(config), StandardCharsets.UTF_8);
    }
}
