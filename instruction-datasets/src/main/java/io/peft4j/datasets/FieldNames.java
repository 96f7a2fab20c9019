package io.peft4j.datasets;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Maps canonical field names ({@code instruction, input, output, context, response, conversations, from, value,
 * messages, role, content, prompt, completion, text, system}) to the names a file actually uses.
 *
 * <pre>{@code
 * FieldNames gsm8k = FieldNames.DEFAULT.with("instruction", "question").with("output", "answer");
 * DatasetReader r = DatasetReader.builder().setPath(p).optShape(RecordShape.ALPACA).optFieldNames(gsm8k).build();
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param renames canonical name to the name used in the file; names not listed map to themselves
 *
 * @since 0.1.0
 */
public record FieldNames(Map<String, String> renames) {
    /** Every field under its canonical name. */
    public static final FieldNames DEFAULT = new FieldNames(Map.of());

    public FieldNames {
        renames = Map.copyOf(Objects.requireNonNull(renames, "renames"));
    }

    /** A copy where canonical field {@code canonical} is read from {@code actual}. */
    public FieldNames with(String canonical, String actual) {
        if (canonical == null || canonical.isBlank() || actual == null || actual.isBlank()) {
            throw new IllegalArgumentException("field names must not be blank: " + canonical + " -> " + actual);
        }
        Map<String, String> m = new HashMap<>(renames);
        m.put(canonical, actual);
        return new FieldNames(m);
    }

    /** The name used in the file for {@code canonical}. */
    public String get(String canonical) {
        return renames.getOrDefault(canonical, canonical);
    }
}
