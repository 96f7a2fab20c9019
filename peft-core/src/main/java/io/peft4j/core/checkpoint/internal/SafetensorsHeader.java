package io.peft4j.core.checkpoint.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and fully validated header of a safetensors file. Layout (spec,
 * https://github.com/huggingface/safetensors#format): 8 bytes little-endian u64 {@code N}; {@code N} bytes of
 * UTF-8 JSON (an object, possibly padded with spaces); then the data section, which the tensors' byte ranges
 * must cover exactly, without holes or overlaps. Nothing is mapped before every entry has been checked.
 *
 * <pre>{@code
 * try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
 *     SafetensorsHeader h = SafetensorsHeader.read(file, ch); // CheckpointFormatException when malformed
 * }
 * }</pre>
 *
 * @param dataStart absolute file offset of the data section ({@code 8 + N})
 * @param entries   tensors in data order (by begin offset)
 * @param metadata  the {@code __metadata__} string map (empty when absent)
 */
public record SafetensorsHeader(Path file, long dataStart, List<TensorEntry> entries, Map<String, String> metadata) {

    /** Largest header accepted; the Rust library uses the same 100 MB cap. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Reads and validates the header of {@code file} through {@code channel}. */
    public static SafetensorsHeader read(Path file, FileChannel channel) throws CheckpointFormatException {
        try {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new CheckpointFormatException(file, "file is " + fileSize
                        + " bytes, too short for the 8-byte header length prefix");
            }
            // spec: first 8 bytes = N, unsigned little-endian 64-bit size of the JSON header
            long n = readFully(channel, 0, 8).getLong();
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new CheckpointFormatException(file, "header length " + Long.toUnsignedString(n)
                        + " exceeds the cap of " + MAX_HEADER_BYTES + " bytes");
            }
            if (n > fileSize - 8) {
                throw new CheckpointFormatException(file, "header length " + n + " is longer than the file ("
                        + fileSize + " bytes, " + (fileSize - 8) + " after the length prefix)");
            }
            // spec: next N bytes = UTF-8 JSON header
            byte[] json = new byte[(int) n];
            readFully(channel, 8, (int) n).get(json);
            long dataLength = fileSize - 8 - n;
            HeaderParser parsed = new HeaderParser(file, dataLength);
            parsed.parse(json);
            List<TensorEntry> ordered = checkLayout(file, parsed.entries, dataLength);
            return new SafetensorsHeader(file, 8 + n, ordered, Collections.unmodifiableMap(parsed.metadata));
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "cannot read header: " + e, e);
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (channel.read(buf, position + buf.position()) < 0) {
                throw new IOException("unexpected end of file at byte " + (position + buf.position()));
            }
        }
        return buf.flip();
    }

    /** spec: "the byte buffer needs to be entirely indexed, and cannot contain holes" (no overlaps either). */
    private static List<TensorEntry> checkLayout(Path file, List<TensorEntry> entries, long dataLength)
            throws CheckpointFormatException {
        List<TensorEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long expected = 0;
        TensorEntry previous = null;
        for (TensorEntry t : sorted) {
            if (t.begin() < expected) {
                throw new CheckpointFormatException(file, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor '" + previous.name() + "' [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (t.begin() > expected) {
                throw new CheckpointFormatException(file, t.name(), "data_offsets begin " + t.begin()
                        + " leaves a hole of " + (t.begin() - expected) + " bytes in the data section (after byte "
                        + expected + ")");
            }
            expected = t.end();
            previous = t;
        }
        if (expected != dataLength) {
            throw new CheckpointFormatException(file, "data section is " + dataLength + " bytes but the tensors "
                    + "cover only " + expected + " (" + (dataLength - expected) + " trailing bytes)");
        }
        return List.copyOf(sorted);
    }

    /** Streaming parse of the header JSON object; one {@link TensorEntry} per key besides __metadata__. */
    private static final class HeaderParser {
        private final Path file;
        private final long dataLength;
        private final List<TensorEntry> entries = new ArrayList<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        HeaderParser(Path file, long dataLength) {
            this.file = file;
            this.dataLength = dataLength;
        }

        void parse(byte[] json) throws CheckpointFormatException, IOException {
            if (json.length == 0 || json[0] != '{') {
                throw new CheckpointFormatException(file, "header JSON must start with '{' (spec), got "
                        + (json.length == 0 ? "an empty header" : "byte 0x" + Integer.toHexString(json[0] & 0xff)));
            }
            Map<String, Boolean> seen = new LinkedHashMap<>();
            try (JsonParser p = Json.MAPPER.getFactory().createParser(json)) {
                p.nextToken(); // START_OBJECT
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    JsonNode value = p.readValueAsTree();
                    if (seen.put(name, Boolean.TRUE) != null) {
                        throw new CheckpointFormatException(file, name, "duplicate key in the header");
                    }
                    if ("__metadata__".equals(name)) {
                        readMetadata(value);
                    } else {
                        entries.add(EntryParser.parse(file, name, value, dataLength));
                    }
                }
                if (p.nextToken() != null) {
                    throw new CheckpointFormatException(file, "trailing content after the header JSON object at byte "
                            + (8 + p.currentLocation().getByteOffset()));
                }
            } catch (JsonProcessingException e) {
                long at = e.getLocation() == null ? -1 : 8 + e.getLocation().getByteOffset();
                throw new CheckpointFormatException(file, "header is not valid JSON at byte " + at + ": "
                        + e.getOriginalMessage(), e);
            }
        }

        /** spec: optional "__metadata__": a map of string to string. */
        private void readMetadata(JsonNode value) throws CheckpointFormatException {
            if (value == null || value.isNull()) {
                return;
            }
            if (!value.isObject()) {
                throw new CheckpointFormatException(file, "__metadata__ must be a JSON object of strings, got "
                        + value.getNodeType());
            }
            for (var it = value.fields(); it.hasNext(); ) {
                var field = it.next();
                if (!field.getValue().isTextual()) {
                    throw new CheckpointFormatException(file, "__metadata__ field '" + field.getKey()
                            + "' must be a string, got " + field.getValue().getNodeType());
                }
                metadata.put(field.getKey(), field.getValue().textValue());
            }
        }
    }
}
