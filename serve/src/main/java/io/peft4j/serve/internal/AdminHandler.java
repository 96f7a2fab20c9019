package io.peft4j.serve.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;

import java.io.IOException;

/**
 * The routes around generation: {@code GET /v1/models}, vLLM's {@code POST /v1/load_lora_adapter} and
 * {@code POST /v1/unload_lora_adapter} (only when adapter updates are allowed), {@code GET /health} and
 * {@code GET /metrics}. Thread-safe.
 */
public final class AdminHandler {
    private final ObjectMapper json;
    private final AdapterCatalog catalog;
    private final EngineMetrics metrics;
    private final boolean allowUpdates;
    private final String baseRoot;
    private final int contextLength;
    private final long started;

    public AdminHandler(ObjectMapper json, AdapterCatalog catalog, EngineMetrics metrics, boolean allowUpdates,
                        String baseRoot, int contextLength, long started) {
        this.json = json;
        this.catalog = catalog;
        this.metrics = metrics;
        this.allowUpdates = allowUpdates;
        this.baseRoot = baseRoot;
        this.contextLength = contextLength;
        this.started = started;
    }

    /** OpenAI's model list: the base, then every adapter with {@code parent} = the base. */
    public void models(Context ctx) throws IOException {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        model(data, catalog.baseName(), started, baseRoot, null);
        for (AdapterCatalog.Entry e : catalog.adapters()) {
            model(data, e.name(), e.created(), e.path(), catalog.baseName());
        }
        ctx.contentType("application/json").result(json.writeValueAsBytes(root));
    }

    private void model(ArrayNode data, String id, long created, String root, String parent) {
        ObjectNode m = data.addObject();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "peft4j");
        m.put("root", root);
        m.put("parent", parent);
        m.put("max_model_len", contextLength);
    }

    public void load(Context ctx) throws IOException {
        JsonNode body = updateBody(ctx);
        String name = text(body, "lora_name");
        catalog.load(name, text(body, "lora_path"));
        ctx.contentType("text/plain").result("Success: LoRA adapter '" + name + "' added successfully.");
    }

    public void unload(Context ctx) throws IOException, InterruptedException {
        JsonNode body = updateBody(ctx);
        String name = text(body, "lora_name");
        catalog.unload(name);
        ctx.contentType("text/plain").result("Success: LoRA adapter '" + name + "' removed successfully.");
    }

    public void health(Context ctx) {
        ctx.status(200).result("");
    }

    public void metrics(Context ctx) {
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render());
    }

    private JsonNode updateBody(Context ctx) throws IOException {
        if (!allowUpdates) {
            throw new ApiError(404, "invalid_request_error", null, "not_found",
                    "adapter updates are off: start the server with --allow-adapter-updates");
        }
        try {
            JsonNode body = json.readTree(ctx.bodyAsBytes());
            if (body == null || !body.isObject()) {
                throw ApiError.badParameter(null, "the request body must be a JSON object");
            }
            return body;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw ApiError.badParameter(null, "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw ApiError.badParameter(field, field + " is required (a non-empty string)");
        }
        return v.asText();
    }
}
