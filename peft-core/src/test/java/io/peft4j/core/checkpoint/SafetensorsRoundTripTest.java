package io.peft4j.core.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Peft4j;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    /** Random bit patterns (NaN payloads, subnormals included) for every dtype; BOOL gets 0/1 bytes. */
    static Map<String, TensorData> everyDtype(long seed) {
        Random rnd = new Random(seed);
        Map<String, TensorData> m = new LinkedHashMap<>();
        String[] dtypes = {"F32", "F16", "BF16", "F64", "I8", "U8", "I16", "I32", "I64", "BOOL"};
        int[] sizes = {4, 2, 2, 8, 1, 1, 2, 4, 8, 1};
        for (int i = 0; i < dtypes.length; i++) {
            byte[] bytes = new byte[3 * 5 * sizes[i]];
            rnd.nextBytes(bytes);
            if (dtypes[i].equals("BOOL")) {
                for (int j = 0; j < bytes.length; j++) {
                    bytes[j] = (byte) (bytes[j] & 1);
                }
            }
            m.put("t." + dtypes[i].toLowerCase(), new TensorData(dtypes[i], new long[] {3, 5}, ByteBuffer.wrap(bytes)));
        }
        m.put("scalar", TensorData.f32(new float[] {42.5f}));
        m.put("empty", TensorData.ofInts(new int[0], 0, 7));
        return m;
    }

    @Test
    void write_everyDtype_readsBackBitExact() throws Exception {
        Map<String, TensorData> tensors = everyDtype(7);
        Path file = dir.resolve("all.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(tensors.keySet(), Set.copyOf(r.names()));
            for (var e : tensors.entrySet()) {
                assertEquals(e.getValue().dtype(), r.dtype(e.getKey()), e.getKey());
                assertArrayEquals(e.getValue().shape(), r.shape(e.getKey()), e.getKey());
                assertEquals(e.getValue().data(), r.raw(e.getKey()), e.getKey() + " bytes differ");
                assertEquals(e.getValue(), r.data(e.getKey()));
                assertEquals(e.getValue().data().remaining(), r.storedBytes(e.getKey()));
                assertTrue(r.raw(e.getKey()).isReadOnly());
                assertEquals(ByteOrder.LITTLE_ENDIAN, r.raw(e.getKey()).order());
            }
        }
    }

    @Test
    void write_layout_matchesPythonLibrary() throws Exception {
        Path file = dir.resolve("layout.safetensors");
        SafetensorsWriter.write(file, everyDtype(1), Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"t.i64\":{\"dtype\":\"I64\",\"shape\":[3,5],"
                + "\"data_offsets\":[0,120]},\"t.f64\":"), header);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            // dtype alignment descending (Rust enum order), then name
            assertEquals(List.of("t.i64", "t.f64", "scalar", "t.f32", "empty", "t.i32", "t.bf16", "t.f16", "t.i16",
                    "t.i8", "t.u8", "t.bool"), r.names());
        }
    }

    @Test
    void metadata_roundTrip_keepsEveryString() throws Exception {
        Map<String, String> meta = Map.of("format", "pt", "quote\"s", "back\\slash\nnewline", "ünï", "日本語 🙂",
                "empty", "");
        Path file = dir.resolve("meta.safetensors");
        SafetensorsWriter.write(file, Map.of("x", TensorData.f32(new float[] {1f}, 1)), meta);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals(meta, r.metadata());
        }
        SafetensorsWriter.write(file, Map.of("x", TensorData.f32(new float[] {1f}, 1)), null);
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertTrue(r.metadata().isEmpty());
        }
    }

    @Test
    void load_everyDtype_givesDjlSafeTypesAndValues() throws Exception {
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("f32", TensorData.f32(new float[] {1.5f, -2f, 3.25f, 0f}, 2, 2));
        t.put("f16", TensorData.ofFloats("F16", new float[] {1.5f, -2f, 65504f, 0x1p-24f}, 2, 2));
        t.put("bf16", TensorData.ofFloats("BF16", new float[] {1.5f, -2f, 3.25f, 1e30f}, 4));
        t.put("f64", TensorData.ofFloats("F64", new float[] {0.1f, 2f}, 2));
        t.put("i8", TensorData.ofBytes("I8", new byte[] {-128, 127, 0}, 3));
        t.put("u8", TensorData.ofBytes("U8", new byte[] {(byte) 255, (byte) 128, 1}, 3));
        t.put("i16", TensorData.ofShorts(new short[] {-32768, 32767}, 2));
        t.put("i32", TensorData.ofInts(new int[] {Integer.MIN_VALUE, 7}, 2));
        t.put("i64", TensorData.ofLongs(new long[] {Long.MAX_VALUE, -1}, 2));
        t.put("bool", TensorData.ofBytes("BOOL", new byte[] {1, 0, 1}, 3));
        Path file = dir.resolve("load.safetensors");
        SafetensorsWriter.write(file, t, Map.of());
        try (SafetensorsReader r = SafetensorsReader.open(file); NDManager m = Peft4j.newManager()) {
            assertLoaded(r.load("f32", m), DataType.FLOAT32, new Shape(2, 2), new float[] {1.5f, -2f, 3.25f, 0f});
            assertLoaded(r.load("f16", m), DataType.FLOAT32, new Shape(2, 2), new float[] {1.5f, -2f, 65504f, 0x1p-24f});
            assertLoaded(r.load("bf16", m), DataType.FLOAT32, new Shape(4),
                    new float[] {1.5f, -2f, 3.25f, Float.intBitsToFloat(0x714a_0000) /* 1e30 = 0x7149f2ca rounds up */});
            assertLoaded(r.load("f64", m), DataType.FLOAT32, new Shape(2), new float[] {0.1f, 2f});
            assertArrayEquals(new byte[] {-128, 127, 0}, checkType(r.load("i8", m), DataType.INT8).toByteArray());
            assertArrayEquals(new int[] {255, 128, 1}, checkType(r.load("u8", m), DataType.UINT8).toUint8Array());
            assertArrayEquals(new int[] {-32768, 32767}, checkType(r.load("i16", m), DataType.INT32).toIntArray());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 7}, checkType(r.load("i32", m), DataType.INT32).toIntArray());
            assertArrayEquals(new long[] {Long.MAX_VALUE, -1}, checkType(r.load("i64", m), DataType.INT64).toLongArray());
            assertArrayEquals(new boolean[] {true, false, true},
                    checkType(r.load("bool", m), DataType.BOOLEAN).toBooleanArray());
            assertEquals(255, r.load("u8", m).toType(DataType.INT32, false).toIntArray()[0]);
        }
    }

    @Test
    void load_result_isWritableAndDoesNotAliasFile() throws Exception {
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, Map.of("w", TensorData.f32(new float[] {1f, 2f}, 2)), Map.of());
        byte[] before = Files.readAllBytes(file);
        try (SafetensorsReader r = SafetensorsReader.open(file); NDManager m = Peft4j.newManager()) {
            NDArray w = r.load("w", m);
            w.muli(10f);
            assertArrayEquals(new float[] {10f, 20f}, w.toFloatArray());
            assertArrayEquals(new float[] {1f, 2f}, r.readFloats("w"));
        }
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void ofNDArray_andWriteArrays_roundTrip() throws Exception {
        Path file = dir.resolve("nd.safetensors");
        try (NDManager m = Peft4j.newManager()) {
            NDArray a = m.arange(6f).reshape(2, 3).transpose(); // a non-contiguous view
            NDArray b = m.create(new long[] {5, -6});
            NDArray c = m.create(new boolean[] {true, false});
            SafetensorsWriter.writeArrays(file, Map.of("a", a, "b", b, "c", c), Map.of("k", "v"));
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                assertArrayEquals(new long[] {3, 2}, r.shape("a"));
                assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, r.readFloats("a"));
                assertEquals("I64", r.dtype("b"));
                assertEquals("BOOL", r.dtype("c"));
                assertArrayEquals(new long[] {5, -6}, r.load("b", m).toLongArray());
                assertEquals(TensorData.of(c), r.data("c"));
            }
        }
    }

    @Test
    void unknownTensor_isCallerError_namingFile() throws Exception {
        Path file = dir.resolve("u.safetensors");
        SafetensorsWriter.write(file, Map.of("x", TensorData.f32(new float[] {1f}, 1)), Map.of());
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.readFloats("y"));
            assertTrue(e.getMessage().contains("u.safetensors") && e.getMessage().contains("'y'"), e.getMessage());
            assertFalse(r.contains("y"));
        }
    }

    @Test
    void writer_refusesDuplicateAndReservedNames() {
        TensorData x = TensorData.f32(new float[] {1f}, 1);
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(dir.resolve("r.safetensors"), Map.of("__metadata__", x), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats("F32", new float[] {1f, 2f}, 3));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofBytes("BOOL", new byte[] {2}, 1));
        assertThrows(IllegalArgumentException.class, () -> new TensorData("Q4_0", new long[] {1}, ByteBuffer.allocate(1)));
    }

    @Test
    void tensorPast2GB_inSparseFile_readsThroughItsOwnMapping() throws Exception {
        long big = (1L << 31) + 16; // a U8 tensor just over 2 GB, kept sparse (never written)
        String header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("sparse.safetensors");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length), 0);
            ch.write(ByteBuffer.wrap(h), 8);
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 1.5f).putFloat(4, -7f),
                    8 + h.length + big);
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertArrayEquals(new float[] {1.5f, -7f}, r.readFloats("tail"));
            assertEquals(big, r.numel("big"));
            var e = assertThrows(io.peft4j.core.CheckpointFormatException.class, () -> r.raw("big"));
            assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("over 2 GB"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    private static NDArray checkType(NDArray a, DataType type) {
        assertEquals(type, a.getDataType());
        return a;
    }

    private static void assertLoaded(NDArray a, DataType type, Shape shape, float[] values) {
        assertEquals(type, a.getDataType());
        assertEquals(shape, a.getShape());
        assertArrayEquals(values, a.toFloatArray());
    }
}
