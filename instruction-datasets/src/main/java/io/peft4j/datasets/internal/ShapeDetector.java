package io.peft4j.datasets.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.datasets.DatasetFormatException;
import io.peft4j.datasets.FieldNames;
import io.peft4j.datasets.RecordShape;

import java.util.ArrayList;
import java.util.List;

/**
 * Tells the {@link RecordShape} from the keys of the first record (under the configured field names). GSM8K-style
 * {@code question}/{@code answer} records are read as prompt/completion.
 */
public final class ShapeDetector {
    private ShapeDetector() {
    }

    /** The shape and the (possibly extended) field names to read it with. */
    public record Detection(RecordShape shape, FieldNames names) {
    }

    public static Detection detect(RawRecord rec, FieldNames names, String file) throws DatasetFormatException {
        JsonNode node = rec.node();
        if (!node.isObject()) {
            throw new DatasetFormatException(file, rec.line(), rec.index(), null,
                    "record must be a JSON object, was " + RecordMapper.kind(node));
        }
        RecordShape[] order = {RecordShape.SHAREGPT, RecordShape.MESSAGES, RecordShape.ALPACA, RecordShape.DOLLY,
            RecordShape.PROMPT_COMPLETION, RecordShape.TEXT};
        for (RecordShape s : order) {
            if (s.requiredFields().stream().allMatch(f -> node.has(names.get(f)))) {
                return new Detection(s, names);
            }
        }
        if (node.has("question") && node.has("answer")) {
            return new Detection(RecordShape.PROMPT_COMPLETION,
                    names.with("prompt", "question").with("completion", "answer"));
        }
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        throw new DatasetFormatException(file, rec.line(), rec.index(), null, "cannot tell the record shape from keys "
                + keys + "; expected instruction/output (alpaca), instruction/response (dolly), conversations "
                + "(sharegpt), messages, prompt/completion or text (or set the shape and field names)");
    }
}
