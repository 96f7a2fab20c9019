package io.peft4j.datasets.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.datasets.DatasetFormatException;

/**
 * One record as read from the file, before mapping: its JSON (or the parse error of its line), 1-based line and
 * 0-based index.
 *
 * @param node  the parsed JSON, null when {@code error} is set
 * @param error a skippable parse error of this record (JSONL), else null
 * @param line  1-based line where the record starts
 * @param index 0-based record index
 */
public record RawRecord(JsonNode node, DatasetFormatException error, long line, long index) {
}
