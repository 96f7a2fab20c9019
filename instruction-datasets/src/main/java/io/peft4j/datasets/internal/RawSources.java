package io.peft4j.datasets.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.peft4j.core.Json;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Opens a dataset file as a {@link RawRecordSource}: gzip is recognised by its magic bytes; a file whose first
 * non-blank character is {@code [} is a JSON array; otherwise, when the name ends in {@code .jsonl[.gz]} or the
 * first non-blank line is a complete JSON value the file is JSON Lines, else a JSON document (e.g. one
 * pretty-printed record).
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

    static BufferedReader reader(Path path) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
    }

    private static String firstNonBlankLine(Path path) throws IOException {
        try (BufferedReader r = reader(path)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    return line;
                }
            }
            return null;
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
