package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A corpus of crafted malformed/hostile files: each is refused at open with its own message. */
class SafetensorsHostileTest {
    @TempDir
    Path dir;

    private static final String F32_A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";

    static Stream<Arguments> corpus() {
        return Stream.of(
                // case name, file bytes, tensor/field the message must name, message fragment
                Arguments.of("too-short", new byte[] {1, 2, 3}, "8-byte", "too short"),
                Arguments.of("header-longer-than-file", raw(500, "{}".getBytes()), "header length 500",
                        "longer than the file"),
                Arguments.of("header-over-cap", raw(1L << 40, "{}".getBytes()), "header length", "exceeds the cap"),
                Arguments.of("header-length-negative", raw(-1, "{}".getBytes()), "header length 18446744073709551615",
                        "exceeds the cap"),
                Arguments.of("bad-json", file("{\"a\":{\"dtype\":\"F32\",,}}", 0), "header", "not valid JSON"),
                Arguments.of("not-an-object", file("[1,2,3]", 0), "header JSON", "must start with '{'"),
                Arguments.of("trailing-garbage", file("{" + F32_A + "} {}", 16), "header", "trailing content"),
                Arguments.of("entry-not-object", file("{\"a\":5}", 0), "'a'", "entry must be a JSON object"),
                Arguments.of("unknown-dtype", file("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],"
                        + "\"data_offsets\":[0,2]}}", 2), "'a'", "unknown or unsupported dtype 'F8_E4M3'"),
                Arguments.of("negative-dim", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1,4],"
                        + "\"data_offsets\":[0,16]}}", 16), "'a'", "shape[0] must be a non-negative"),
                Arguments.of("shape-overflow", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                        + "\"data_offsets\":[0,16]}}", 16), "'a'", "overflows a 64-bit byte count"),
                Arguments.of("offsets-past-end", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                        + "\"data_offsets\":[0,16]}}", 12), "'a'", "run past the end of the data section"),
                Arguments.of("offsets-reversed", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],"
                        + "\"data_offsets\":[8,4]}}", 8), "'a'", "is before begin"),
                Arguments.of("offsets-not-pair", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                        + "\"data_offsets\":[0,4,8]}}", 8), "'a'", "data_offsets must be an array of 2"),
                Arguments.of("offsets-fractional", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                        + "\"data_offsets\":[0,4.5]}}", 8), "'a'", "data_offsets[1] must be a non-negative"),
                Arguments.of("missing-offsets", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "'a'",
                        "missing field 'data_offsets'"),
                Arguments.of("span-mismatch", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                        + "\"data_offsets\":[0,12]}}", 12), "'a'", "needs 16 bytes but data_offsets [0, 12] span 12"),
                Arguments.of("overlap", file("{" + F32_A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[4],"
                        + "\"data_offsets\":[8,24]}}", 24), "'b'", "overlap tensor 'a'"),
                Arguments.of("hole", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                        "'a'", "leaves a hole of 4 bytes"),
                Arguments.of("trailing-data", file("{" + F32_A + "}", 20), "data section", "4 trailing bytes"),
                Arguments.of("duplicate-name", file("{" + F32_A + "," + F32_A + "}", 16), "'a'",
                        "duplicate key in the header"),
                Arguments.of("metadata-not-string", file("{\"__metadata__\":{\"format\":1}," + F32_A + "}", 16),
                        "__metadata__ field 'format'", "must be a string"),
                Arguments.of("deep-nesting", file("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0),
                        "header", "not valid JSON"),
                Arguments.of("invalid-utf8", withHeader(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}', ' '}, 0),
                        "header", "not valid JSON"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void open_hostileFile_refusedNamingFileAndField(String name, byte[] bytes, String names, String fragment)
            throws Exception {
        Path file = dir.resolve(name + ".safetensors");
        Files.write(file, bytes);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsReader.open(file));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.toString()), "names the file: " + msg);
        assertTrue(msg.contains(names), "names " + names + ": " + msg);
        assertTrue(msg.contains(fragment), "says '" + fragment + "': " + msg);
    }

    @Test
    void corpus_messages_areAllDistinct() {
        Set<String> fragments = new HashSet<>();
        corpus().forEach(a -> fragments.add(a.get()[2] + "|" + a.get()[3]));
        assertTrue(fragments.size() >= 20, "distinct messages: " + fragments.size());
    }

    @Test
    void load_boolOtherThanZeroOrOne_refusedNamingTensor() throws Exception {
        Path file = dir.resolve("bool.safetensors");
        byte[] bytes = file("{\"flags\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", 3);
        bytes[bytes.length - 2] = 7;
        Files.write(file, bytes);
        try (SafetensorsReader r = SafetensorsReader.open(file); NDManager m = Peft4j.newManager()) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.load("flags", m));
            assertTrue(e.getMessage().contains("'flags'") && e.getMessage().contains("element 1 is byte 7"),
                    e.getMessage());
        }
    }

    @Test
    void open_missingFile_refusedNamingIt() {
        Path file = dir.resolve("nope.safetensors");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsReader.open(file));
        assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());
    }

    /** 8-byte length + header JSON (as given, unpadded) + {@code dataBytes} zero bytes. */
    static byte[] file(String header, int dataBytes) {
        return withHeader(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    static byte[] withHeader(byte[] header, int dataBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le(header.length));
        out.writeBytes(header);
        out.writeBytes(new byte[dataBytes]);
        return out.toByteArray();
    }

    /** A declared header length that need not match what follows. */
    static byte[] raw(long declaredLength, byte[] rest) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le(declaredLength));
        out.writeBytes(rest);
        return out.toByteArray();
    }

    private static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
