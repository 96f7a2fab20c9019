package io.peft4j.datasets.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.peft4j.core.Json;

import io.peft4j.core.text.InvalidUtf8Exception;
import io.peft4j.core.text.StrictUtf8Reader;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Opens a dataset file as a {@link RawRecordSource}: gzip is recognised by its magic bytes; a file whose first
 * non-blank character is {@code [} is a JSON array; otherwise, when the name ends in {@code .jsonl[.gz]} or the
 * first non-blank line is a complete JSON value the file is JSON Lines, else a JSON document (e.g. one
 * pretty-printed record). Text is decoded by the one strict {@link StrictUtf8Reader} (a leading BOM is accepted).
 */
public final class RawSources {
    private RawSources() {
    }

    public static RawRecordSource open(Path path) throws IOException {
        String name = path.toString();
        String firstLine = firstNonBlankLine(path);
        boolean jsonlName = name.endsWith(".jsonl") || name.endsWith(".jsonl.gz");
        if (firstLine != null && !firstLine.strip().startsWith("[") && (jsonlName || isCompleteJson(firstLine))) {
            return new JsonlSource(reader(path), name);
        }
        return new JsonDocumentSource(reader(path), name);
    }

    static StrictUtf8Reader reader(Path path) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return new StrictUtf8Reader(in);
    }

    private static String firstNonBlankLine(Path path) throws IOException {
        try (StrictUtf8Reader r = reader(path)) {
            while (true) {
                String line;
                try {
                    line = r.readLine();
                } catch (InvalidUtf8Exception e) {
                    continue; // reported with its line when the records are read
                }
                if (line == null) {
                    return null;
                }
                if (!line.isBlank()) {
                    return line;
                }
            }
        }
    }

    private static boolean isCompleteJson(String line) {
        try {
            Json.MAPPER.readTree(line);
            return true;
        } catch (JsonProcessingException e) {
            return false;
        }
    }
}
