package io.peft4j.datasets.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.text.InvalidUtf8Exception;
import io.peft4j.datasets.DatasetFormatException;

import java.io.IOException;
import java.io.Reader;

/**
 * A JSON array of records, or one or more top-level JSON objects (a pretty-printed single record), streamed
 * element by element with Jackson's parser. A syntax error or malformed UTF-8 (line and byte offset named) cannot
 * be skipped: the parser cannot resynchronise.
 * Not thread-safe.
 */
final class JsonDocumentSource implements RawRecordSource {
    private final JsonParser parser;
    private final String file;
    private boolean array;
    private boolean started;
    private boolean done;
    private long index;

    JsonDocumentSource(Reader reader, String file) throws IOException {
        this.parser = Json.MAPPER.getFactory().createParser(reader);
        this.file = file;
    }

    @Override
    public RawRecord next() throws DatasetFormatException, IOException {
        if (done) {
            return null;
        }
        try {
            JsonToken t = advance();
            if (t == null || (array && t == JsonToken.END_ARRAY)) {
                finish();
                return null;
            }
            long line = parser.currentTokenLocation().getLineNr();
            JsonNode node = Json.MAPPER.readTree(parser);
            return new RawRecord(node, null, line, index++);
        } catch (InvalidUtf8Exception e) {
            done = true;
            throw new DatasetFormatException(file, e.line(), index, null, e.getMessage());
        } catch (JsonProcessingException e) {
            done = true;
            long line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
            throw new DatasetFormatException(file, line, index, null, "invalid JSON"
                    + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr())
                    + ": " + e.getOriginalMessage());
        }
    }

    private JsonToken advance() throws IOException {
        if (!started) {
            started = true;
            JsonToken first = parser.nextToken();
            if (first == JsonToken.START_ARRAY) {
                array = true;
                return parser.nextToken();
            }
            return first;
        }
        return parser.nextToken();
    }

    private void finish() throws IOException, DatasetFormatException {
        done = true;
        if (array && parser.nextToken() != null) {
            throw new DatasetFormatException(file, parser.currentTokenLocation().getLineNr(), -1, null,
                    "unexpected content after the closing ']' of the record array");
        }
    }

    @Override
    public void close() throws IOException {
        parser.close();
    }
}
