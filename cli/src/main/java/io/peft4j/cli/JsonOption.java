package io.peft4j.cli;

import io.peft4j.core.Json;
import picocli.CommandLine.Option;

import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The options every command shares: {@code --json} (the last stdout line is one JSON object) and
 * {@code --debug} (stack traces on error). Mix in with {@code @Mixin JsonOption out;}.
 */
final class JsonOption {
    @Option(names = "--json", description = "Print one JSON object as the last stdout line.")
    boolean json;

    @Option(names = "--debug", description = "Show stack traces on errors and, through ./peft4j, the INFO log "
            + "(which decode kernel and path were chosen, and why).")
    boolean debug;

    /**
     * Prints {@code result} as one compact JSON line when {@code --json}, else as "key: value" lines. A non-finite
     * number (NaN, ±Infinity) is written as JSON {@code null}, never as a string; commands whose headline number is
     * non-finite fail before printing instead.
     */
    void print(Map<String, ?> result) {
        if (json) {
            try {
                System.out.println(Json.MAPPER.writer().without(
                        com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(finite(result)));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            result.forEach((k, v) -> System.out.println(k + ": " + v));
        }
    }

    /** {@code value} with every non-finite Double or Float (also inside maps and lists) replaced by null. */
    static Object finite(Object value) {
        if (value instanceof Double d && !Double.isFinite(d) || value instanceof Float f && !Float.isFinite(f)) {
            return null;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new java.util.LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(k, finite(v)));
            return copy;
        }
        if (value instanceof java.util.Collection<?> list) {
            return list.stream().map(JsonOption::finite).collect(java.util.stream.Collectors.toList());
        }
        return value;
    }

    /** A human status line: stderr, so stdout stays machine-readable. */
    void status(String line) {
        System.err.println(line);
    }
}
