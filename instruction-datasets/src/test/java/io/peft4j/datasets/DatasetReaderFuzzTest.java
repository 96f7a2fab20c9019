package io.peft4j.datasets;

import io.peft4j.core.testing.HostileInput;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property-based hostile inputs for the dataset readers (JSONL, JSON array, pretty JSON document): random records of
 * every shape, then truncations, bit flips, spliced or deleted bytes and malformed UTF-8 (stray continuation bytes,
 * overlongs, surrogates, cut sequences). Each case, strict and skipping, must be read or refused with a
 * {@link DatasetFormatException} naming the file, within the {@link HostileInput} limits; a read never holds U+FFFD
 * unless the file spelled it. {@code -Pfuzz} runs 10,000 cases.
 */
class DatasetReaderFuzzTest {
    private static final String[] EXT = {".jsonl", ".json", ".txt"};
    private static final int[][] BAD_UTF8 = {{0x80}, {0xBF}, {0xC0, 0xAF}, {0xC3}, {0xE2, 0x82}, {0xED, 0xA0, 0x80},
        {0xF0, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90, 0x80, 0x80}, {0xFE}, {0xFF}, {0xE0, 0x80, 0x80}};

    private static Path dir;

    @BeforeContainer
    static void setUp() throws IOException {
        dir = Files.createTempDirectory("fuzz-datasets");
    }

    @AfterContainer
    static void tearDown() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    @Property
    void datasetReader_hostileFile_refusedOrRead(@ForAll long seed) throws IOException {
        Random rng = new Random(seed);
        byte[] valid = dataset(rng);
        byte[] bytes = switch (rng.nextInt(3)) {
            case 0 -> breakUtf8(valid, rng);
            case 1 -> HostileInput.mutate(valid, rng);
            default -> HostileInput.mutate(breakUtf8(valid, rng), rng);
        };
        Path file = dir.resolve("case" + EXT[rng.nextInt(EXT.length)]);
        Files.write(file, bytes);
        boolean fffdInFile = new String(bytes, StandardCharsets.ISO_8859_1).contains("\u00EF\u00BF\u00BD");
        List<Class<? extends Throwable>> refusals = bytes.length >= 2 && (bytes[0] & 0xFF) == 0x1F
                && (bytes[1] & 0xFF) == 0x8B ? List.of(DatasetFormatException.class, ZipException.class,
                EOFException.class) : List.of(DatasetFormatException.class);
        for (boolean skip : new boolean[] {false, true}) {
            HostileInput.Outcome o = HostileInput.check(refusals, () -> {
                Dataset d = DatasetReader.builder().setPath(file).optSkipBadRecords(skip).build().readAll();
                for (Conversation c : d.records()) {
                    for (Message m : c.messages()) {
                        assertTrue(fffdInFile || !m.content().contains("\uFFFD"), "U+FFFD invented: " + m);
                    }
                }
            });
            assertTrue(o.read() || o.refusal().contains(file.toString()) || refusals.size() > 1,
                    "names the file: " + o.refusal());
        }
    }

    @Example
    void badUtf8Line_isOneBadRecord_namingLineAndOffset_bomAccepted() throws Exception {
        Path file = dir.resolve("utf8.jsonl");
        Files.write(file, concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xC3, '('}, "\",\"output\":\"b\"}\n{\"instruction\":\"\u00e9\",\"output\":\"c\"}\n"
                        .getBytes(StandardCharsets.UTF_8)));
        try (RecordStream s = DatasetReader.builder().setPath(file).optSkipBadRecords(true).build().open()) {
            assertEquals("a", s.read().messages().get(0).content());
            assertEquals("\u00e9", s.read().messages().get(0).content());
            assertEquals(null, s.read());
            assertEquals(1, s.badRecords());
            DatasetFormatException e = s.firstBadRecords().get(0);
            assertEquals(2, e.line());
            assertEquals(file + ":2 (record 1): invalid UTF-8 at byte offset 52: byte 0x28 after 0xC3 is not a "
                    + "valid continuation of a 2-byte character", e.getMessage());
        }
        Path array = dir.resolve("utf8.json");
        Files.write(array, concat("[{\"instruction\":\"a\",\n\"output\":\"".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xFF}, "\"}]".getBytes(StandardCharsets.UTF_8)));
        DatasetFormatException e = org.junit.jupiter.api.Assertions.assertThrows(DatasetFormatException.class,
                () -> DatasetReader.builder().setPath(array).optSkipBadRecords(true).build().readAll());
        assertTrue(e.getMessage().startsWith(array + ":2") && e.getMessage().contains("byte offset 31"),
                e.getMessage());
        assertFalse(e.getMessage().contains("Input length"), e.getMessage());
    }

    private static byte[] dataset(Random rng) {
        StringBuilder sb = new StringBuilder();
        int shape = rng.nextInt(4);
        boolean array = rng.nextInt(3) == 0;
        int n = 1 + rng.nextInt(5);
        if (array) {
            sb.append(rng.nextBoolean() ? "[\n" : "[");
        }
        for (int i = 0; i < n; i++) {
            String a = text(rng);
            String b = text(rng);
            sb.append(switch (shape) {
                case 0 -> "{\"instruction\":" + a + ",\"input\":\"\",\"output\":" + b + "}";
                case 1 -> "{\"conversations\":[{\"from\":\"human\",\"value\":" + a + "},{\"from\":\"gpt\",\"value\":"
                        + b + "}]}";
                case 2 -> "{\"messages\":[{\"role\":\"user\",\"content\":" + a + "},{\"role\":\"assistant\","
                        + "\"content\":" + b + "}]}";
                default -> "{\"prompt\":" + a + ",\"completion\":" + b + "}";
            });
            sb.append(array ? (i < n - 1 ? ",\n" : "\n]") : "\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String text(Random rng) {
        String[] parts = {"hi", "caf\u00e9", "\u03b1\u03b2", "\u20ac", "\uD83D\uDE00", " ", "\\n", "\\\"", "\\u00e9",
            "x", "\u4e2d"};
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0, n = rng.nextInt(6); i < n; i++) {
            sb.append(parts[rng.nextInt(parts.length)]);
        }
        return sb.append('"').toString();
    }

    /** Overwrites or inserts one to three malformed UTF-8 sequences. */
    private static byte[] breakUtf8(byte[] valid, Random rng) {
        byte[] b = valid;
        for (int k = 0, n = 1 + rng.nextInt(3); k < n; k++) {
            int[] bad = BAD_UTF8[rng.nextInt(BAD_UTF8.length)];
            int at = rng.nextInt(b.length + 1);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(b, 0, at);
            for (int x : bad) {
                out.write(x);
            }
            int skip = rng.nextBoolean() ? Math.min(bad.length, b.length - at) : 0;
            out.write(b, at + skip, b.length - at - skip);
            b = out.toByteArray();
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
