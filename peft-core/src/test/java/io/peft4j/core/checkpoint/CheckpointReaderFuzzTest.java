package io.peft4j.core.checkpoint;

import io.peft4j.core.checkpoint.gguf.GgufTestWriter;
import io.peft4j.core.checkpoint.gguf.GgufTensorSource;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Peft4j;
import io.peft4j.core.testing.HostileInput;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property-based hostile inputs for the safetensors and GGUF readers: valid small files mutated by truncation, bit
 * flips, edge values written over length/offset fields, deleted, duplicated or spliced bytes, and (safetensors)
 * header numbers replaced by edge values. Every case must end in a {@link CheckpointFormatException} naming the file
 * or in a read of every tensor, within the {@link HostileInput} time and heap limits. {@code -Pfuzz} runs 10,000
 * cases per reader.
 */
class CheckpointReaderFuzzTest {
    private static final List<Class<? extends Throwable>> REFUSALS = List.of(CheckpointFormatException.class);
    private static final long[] EDGES = {0, 1, 2, 3, 7, 8, 15, 16, 17, 255, 65536, Integer.MAX_VALUE,
        Integer.MAX_VALUE + 1L, 0xFFFFFFFFL, Long.MAX_VALUE, 4294967296L, 9007199254740993L};

    private static Path dir;
    private static NDManager manager;

    @BeforeContainer
    static void setUp() throws IOException {
        dir = Files.createTempDirectory("fuzz-checkpoints");
        manager = Peft4j.newManager();
    }

    @AfterContainer
    static void tearDown() throws IOException {
        manager.close();
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    @Property
    void safetensors_hostileFile_refusedOrRead(@ForAll long seed) throws IOException {
        Random rng = new Random(seed);
        byte[] valid = safetensorsSeed(rng.nextInt(3));
        byte[] bytes = rng.nextInt(3) == 0 ? editHeaderNumber(valid, rng) : HostileInput.mutate(valid, rng);
        Path file = dir.resolve("case.safetensors");
        Files.write(file, bytes);
        HostileInput.Outcome o = HostileInput.check(REFUSALS, () -> {
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                for (String name : r.names()) {
                    readFully(r, name);
                }
            }
        });
        assertTrue(o.read() || o.refusal().contains(file.toString()), "names the file: " + o.refusal());
    }

    @Property
    void gguf_hostileFile_refusedOrRead(@ForAll long seed) throws IOException {
        Random rng = new Random(seed);
        byte[] bytes = HostileInput.mutate(ggufSeed(rng.nextInt(2)), rng);
        Path file = dir.resolve("case.gguf");
        Files.write(file, bytes);
        HostileInput.Outcome o = HostileInput.check(REFUSALS, () -> {
            try (GgufTensorSource r = GgufTensorSource.open(file)) {
                r.metadata();
                for (String name : r.names()) {
                    readFully(r, name);
                }
            }
        });
        assertTrue(o.read() || o.refusal().contains(file.getFileName().toString()), "names the file: " + o.refusal());
    }

    /** The seeds themselves read, so the mutations start from files that exercise every read path. */
    @Property(tries = 1)
    void seeds_areValid() throws Exception {
        for (int i = 0; i < 3; i++) {
            Path f = Files.write(dir.resolve("seed" + i + ".safetensors"), safetensorsSeed(i));
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                for (String n : r.names()) {
                    readFully(r, n);
                }
            }
        }
        for (int i = 0; i < 2; i++) {
            Path f = Files.write(dir.resolve("seed" + i + ".gguf"), ggufSeed(i));
            try (GgufTensorSource r = GgufTensorSource.open(f)) {
                assertEquals(i == 0 ? 3 : 2, r.names().size());
                for (String n : r.names()) {
                    readFully(r, n);
                }
            }
        }
    }

    private static void readFully(TensorSource r, String name) throws CheckpointFormatException {
        long numel = 1;
        for (long d : r.shape(name)) {
            numel *= d;
        }
        r.dtype(name);
        if (numel <= 1 << 16) {
            float[] v = r.readFloats(name);
            assertEquals(numel, v.length, name);
        }
        try (NDArray a = r.load(name, manager)) {
            assertEquals(numel, a.size(), name);
        }
    }

    private static byte[] safetensorsSeed(int which) {
        String meta = "\"__metadata__\":{\"format\":\"pt\",\"peft4j.base_fingerprint\":\"abc\"}";
        return switch (which) {
            case 0 -> SafetensorsHostileTest.file("{" + meta + ",\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],"
                    + "\"data_offsets\":[0,24]},\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]}}", 32);
            case 1 -> SafetensorsHostileTest.file("{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                    + "\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                    + "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[24,27]},"
                    + "\"f\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[27,28]}}", 28);
            default -> SafetensorsHostileTest.file("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},"
                    + "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}        ", 8);
        };
    }

    /** Replaces one number in the JSON header (a dim, an offset) by an edge value, fixing nothing else. */
    private static byte[] editHeaderNumber(byte[] valid, Random rng) {
        int headerLen = (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(valid, 8, headerLen, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\\d+").matcher(header);
        List<int[]> spans = new java.util.ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        int[] s = spans.get(rng.nextInt(spans.size()));
        long edge = EDGES[rng.nextInt(EDGES.length)] + (rng.nextBoolean() ? 0 : rng.nextInt(3) - 1);
        String edited = header.substring(0, s[0]) + (rng.nextInt(8) == 0 ? "-" : "") + Long.toUnsignedString(edge)
                + header.substring(s[1]);
        return SafetensorsHostileTest.withHeader(edited.getBytes(StandardCharsets.UTF_8), valid.length - 8 - headerLen);
    }

    private static byte[] ggufSeed(int which) {
        GgufTestWriter w = new GgufTestWriter().kvString("general.architecture", "llama")
                .kvU32("llama.block_count", 1).kvStrings("tokenizer.ggml.tokens", "a", "b", "c");
        if (which == 0) {
            byte[] q8 = new byte[34];
            q8[0] = 0x00;
            q8[1] = 0x3C; // fp16 scale 1.0
            for (int i = 2; i < 34; i++) {
                q8[i] = (byte) (i - 18);
            }
            byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0};
            return w.tensor("q8", new long[] {32}, 8, q8).tensor("h", new long[] {2}, 1, f16)
                    .tensor("token_embd.weight", new long[] {2, 2}, 0, GgufTestWriter.floatsLe(1, 2, 3, 4)).build();
        }
        byte[] q4 = new byte[18];
        q4[1] = 0x3C;
        for (int i = 2; i < 18; i++) {
            q4[i] = (byte) (i * 17);
        }
        return w.alignment(64).tensor("q4", new long[] {32}, 2, q4)
                .tensor("f", new long[] {3}, 0, GgufTestWriter.floatsLe(-1, 0, 1)).build();
    }
}
