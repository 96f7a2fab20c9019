package io.peft4j.datasets;

import java.util.List;

/**
 * The record layouts {@link DatasetReader} understands, with their (canonical) field names. Field names can be
 * remapped with {@link FieldNames}.
 *
 * <pre>{@code
 * DatasetReader r = DatasetReader.builder().setPath(p).optShape(RecordShape.DOLLY).build();
 * RecordShape detected = r.readAll().shape();
 * boolean chat = RecordShape.SHAREGPT.isMultiTurn();
 * }</pre>
 *
 * @since 0.1.0
 */
public enum RecordShape {
    /** {@code instruction}, optional {@code input}, {@code output}. */
    ALPACA(List.of("instruction", "output")),
    /** {@code instruction}, optional {@code context}, {@code response}. */
    DOLLY(List.of("instruction", "response")),
    /** {@code conversations}: list of {@code {from, value}} with from = human/gpt/system; optional {@code system}. */
    SHAREGPT(List.of("conversations")),
    /** OpenAI style {@code messages}: list of {@code {role, content}}, system allowed. */
    MESSAGES(List.of("messages")),
    /** {@code prompt} and {@code completion}. */
    PROMPT_COMPLETION(List.of("prompt", "completion")),
    /** Plain {@code text}, trained as a whole. */
    TEXT(List.of("text"));

    private final List<String> requiredFields;

    RecordShape(List<String> requiredFields) {
        this.requiredFields = requiredFields;
    }

    /** Canonical names of the fields that identify this shape. */
    public List<String> requiredFields() {
        return requiredFields;
    }

    public boolean isMultiTurn() {
        return this == SHAREGPT || this == MESSAGES;
    }
}
