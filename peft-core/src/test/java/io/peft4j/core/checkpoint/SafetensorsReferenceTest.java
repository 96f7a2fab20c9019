package io.peft4j.core.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads the file the Python {@code safetensors} library wrote ({@code scripts/interop/safetensors_reference.py
 * write}, committed under {@code src/test/resources/interop/}) and checks that peft4j writes the same tensors
 * byte for byte: header layout, tensor order, padding and F16/BF16 rounding all match torch's.
 */
class SafetensorsReferenceTest {
    /** The exact float32 inputs of the Python script (FLOATS). */
    static final float[] FLOATS = {0f, -0f, 1f, -1.5f, 1f / 3, 65504f, 65519f, 65520f, 1e-8f, 6e-5f, 3e38f, 1e30f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1.00390625f, 1.01171875f, 0x1p-24f,
            0x1p-25f, 3 * 0x1p-25f};

    @TempDir
    Path dir;

    static Path reference() throws Exception {
        return Path.of(SafetensorsReferenceTest.class.getResource("/interop/safetensors_reference.safetensors").toURI());
    }

    static Map<String, TensorData> sameTensorsInJava() {
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("f32", TensorData.f32(FLOATS, 4, 5));
        t.put("f16", TensorData.ofFloats("F16", FLOATS, 20));
        t.put("bf16", TensorData.ofFloats("BF16", FLOATS, 2, 10));
        t.put("f64", TensorData.ofFloats("F64", FLOATS, 20));
        t.put("i8", TensorData.ofBytes("I8", new byte[] {-128, -1, 0, 1, 127}, 5));
        t.put("u8", TensorData.ofBytes("U8", new byte[] {0, 1, (byte) 128, (byte) 255}, 4));
        t.put("i16", TensorData.ofShorts(new short[] {-32768, -1, 0, 32767}, 4));
        t.put("i32", TensorData.ofInts(new int[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE}, 4));
        t.put("i64", TensorData.ofLongs(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, 4));
        t.put("bool", TensorData.ofBytes("BOOL", new byte[] {1, 0, 1}, 3));
        t.put("model.layers.0.scalar", TensorData.f32(new float[] {42.5f}));
        t.put("model.layers.0.empty", TensorData.ofInts(new int[0], 0, 3));
        return t;
    }

    @Test
    void pythonFile_readsExactly() throws Exception {
        try (SafetensorsReader r = SafetensorsReader.open(reference())) {
            assertEquals(Map.of("format", "pt"), r.metadata());
            assertEquals(List.of("i64", "f64", "f32", "model.layers.0.scalar", "i32", "model.layers.0.empty", "bf16",
                    "f16", "i16", "i8", "u8", "bool"), r.names());
            assertArrayEquals(FLOATS, r.readFloats("f32"));
            assertArrayEquals(new long[] {4, 5}, r.shape("f32"));
            assertArrayEquals(new long[] {}, r.shape("model.layers.0.scalar"));
            assertArrayEquals(new float[] {42.5f}, r.readFloats("model.layers.0.scalar"));
            assertArrayEquals(new float[] {0f, -0f, 1f, -1.5f, 0.33325195f, 65504f, 65504f, Float.POSITIVE_INFINITY,
                    0f, 1007 * 0x1p-24f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY, Float.NaN, 1.00390625f, 1.01171875f, 0x1p-24f, 0f, 0x1p-23f},
                    r.readFloats("f16"));
            assertArrayEquals(new int[] {0x0000, 0x8000, 0x3F80, 0xBFC0, 0x3EAB, 0x4780, 0x4780, 0x4780, 0x322C, 0x387C,
                    0x7F62, 0x714A, 0x7F80, 0xFF80, 0xFFFF, 0x3F80, 0x3F82, 0x3380, 0x3300, 0x33C0}, shorts(r.raw("bf16")));
            assertArrayEquals(new float[] {1f, 1.015625f, 0x1p-24f}, slice(r.readFloats("bf16"), 15, 18));
            assertArrayEquals(new float[] {-128, -1, 0, 1, 127}, r.readFloats("i8"));
            assertArrayEquals(new float[] {0, 1, 128, 255}, r.readFloats("u8"));
            assertArrayEquals(new float[] {-32768, -1, 0, 32767}, r.readFloats("i16"));
            assertArrayEquals(new float[] {1, 0, 1}, r.readFloats("bool"));
            assertEquals(Long.MIN_VALUE, r.raw("i64").getLong(0));
            assertEquals(Integer.MAX_VALUE, r.raw("i32").getInt(12));
            for (Map.Entry<String, TensorData> e : sameTensorsInJava().entrySet()) {
                assertEquals(e.getValue(), r.data(e.getKey()), e.getKey());
            }
        }
    }

    @Test
    void javaWriter_reproducesPythonFile_byteForByte() throws Exception {
        Path ours = dir.resolve("ours.safetensors");
        SafetensorsWriter.write(ours, sameTensorsInJava(), Map.of("format", "pt"));
        byte[] expected = Files.readAllBytes(reference());
        byte[] actual = Files.readAllBytes(ours);
        assertEquals(expected.length, actual.length);
        assertArrayEquals(expected, actual);
    }

    private static int[] shorts(ByteBuffer b) {
        int[] out = new int[b.remaining() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getShort(2 * i) & 0xffff;
        }
        return out;
    }

    private static float[] slice(float[] a, int from, int to) {
        return java.util.Arrays.copyOfRange(a, from, to);
    }
}
