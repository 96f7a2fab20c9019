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

    @Option(names = "--debug", description = "Show stack traces on errors.")
    boolean debug;

    /** Prints {@code result} as one compact JSON line when {@code --json}, else as "key: value" lines. */
    void print(Map<String, ?> result) {
        if (json) {
            try {
                System.out.println(Json.MAPPER.writer().without(
                        com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            result.forEach((k, v) -> System.out.println(k + ": " + v));
        }
    }

    /** A human status line: stderr, so stdout stays machine-readable. */
    void status(String line) {
        System.err.println(line);
    }
}
