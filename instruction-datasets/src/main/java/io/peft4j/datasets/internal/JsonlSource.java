package io.peft4j.datasets.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.datasets.DatasetFormatException;

import io.peft4j.core.text.InvalidUtf8Exception;
import io.peft4j.core.text.StrictUtf8Reader;

import java.io.IOException;

/**
 * JSON Lines: one record per non-blank line, parsed line by line in constant memory. A line that is not valid UTF-8
 * is a bad record (skippable) naming the byte offset. Not thread-safe.
 */
final class JsonlSource implements RawRecordSource {
    private final StrictUtf8Reader reader;
    private final String file;
    private long line;
    private long index;

    JsonlSource(StrictUtf8Reader reader, String file) {
        this.reader = reader;
        this.file = file;
    }

    @Override
    public RawRecord next() throws IOException {
        String text;
        do {
            try {
                text = reader.readLine();
            } catch (InvalidUtf8Exception e) {
                line++;
                long idx = index++;
                return new RawRecord(null, new DatasetFormatException(file, line, idx, null, e.getMessage()), line, idx);
            }
            if (text == null) {
                return null;
            }
            line++;
        } while (text.isBlank());
        long idx = index++;
        try {
            JsonNode node = Json.MAPPER.readTree(text);
            return new RawRecord(node, null, line, idx);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
            DatasetFormatException err = new DatasetFormatException(file, line, idx, null,
                    "invalid JSON" + where + ": " + e.getOriginalMessage());
            return new RawRecord(null, err, line, idx);
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
