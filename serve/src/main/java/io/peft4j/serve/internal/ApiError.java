package io.peft4j.serve.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, carried to the HTTP layer as OpenAI's error object
 * ({@code {"error": {"message", "type", "param", "code"}}}) with its status code.
 *
 * <pre>{@code
 * throw ApiError.badParameter("temperature", "temperature must be >= 0, got -1");   // 400 naming the field
 * }</pre>
 */
public final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiError(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a field has a bad value; {@code param} names it. */
    public static ApiError badParameter(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    /** 404 for a model (base or adapter) the server does not serve. */
    public static ApiError unknownModel(String model) {
        return new ApiError(404, "invalid_request_error", "model", "model_not_found",
                "The model `" + model + "` does not exist.");
    }

    public int status() {
        return status;
    }

    /** The OpenAI error JSON of this error. */
    public ObjectNode toJson() {
        return json(getMessage(), type, param, code);
    }

    /** OpenAI's error JSON. */
    public static ObjectNode json(String message, String type, String param, String code) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}
