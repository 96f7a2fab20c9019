package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.gguf.GgmlKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_ARRAY;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_BOOL;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_FLOAT32;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_FLOAT64;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_INT16;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_INT32;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_INT64;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_INT8;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_STRING;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_UINT16;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_UINT32;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_UINT64;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_UINT8;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.floatsLe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GGUF v2/v3 files written by {@link GgufTestWriter} read back exactly: every value type, tensors, alignment. */
class GgufFileTest {
    @TempDir
    Path dir;

    private static GgufTestWriter everyValueType(long version) {
        GgufTestWriter w = new GgufTestWriter()
                .kv("u8", T_UINT8, o -> o.u8(200))
                .kv("i8", T_INT8, o -> o.u8(0xFB))
                .kv("u16", T_UINT16, o -> o.u16(60000))
                .kv("i16", T_INT16, o -> o.u16(-300))
                .kv("u32", T_UINT32, o -> o.u32(4_000_000_000L))
                .kv("i32", T_INT32, o -> o.u32(-7))
                .kv("f32", T_FLOAT32, o -> o.f32(1.5f))
                .kv("bool", T_BOOL, o -> o.u8(1))
                .kvString("str", "héllo 世界")
                .kv("arr_u32", T_ARRAY, o -> o.u32(T_UINT32).u64(3).u32(1).u32(2).u32(3))
                .kvStrings("arr_str", "a", "", "ü")
                .kv("arr_nested", T_ARRAY, o -> o.u32(T_ARRAY).u64(2)
                        .u32(T_INT32).u64(2).u32(-1).u32(5)
                        .u32(T_FLOAT32).u64(1).f32(0.25f))
                .kv("arr_f32", T_ARRAY, o -> o.u32(T_FLOAT32).u64(2).f32(-0.5f).f32(3f))
                .kv("u64", T_UINT64, o -> o.u64(1L << 40))
                .kv("i64", T_INT64, o -> o.u64(-1L))
                .kv("f64", T_FLOAT64, o -> o.f64(2.25));
        w.version = version;
        return w;
    }

    @Test
    void metadata_everyValueType_v2AndV3_roundTrip() throws Exception {
        for (long version : new long[] {2, 3}) {
            Path p = everyValueType(version).write(dir, "v" + version + ".gguf");
            try (GgufFile g = GgufFile.open(p)) {
                assertEquals((int) version, g.version());
                Map<String, Object> m = g.metadata();
                assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr_u32",
                        "arr_str", "arr_nested", "arr_f32", "u64", "i64", "f64"), List.copyOf(m.keySet()));
                assertEquals(200, m.get("u8"));
                assertEquals(-5, m.get("i8"));
                assertEquals(60000, m.get("u16"));
                assertEquals(-300, m.get("i16"));
                assertEquals(4_000_000_000L, m.get("u32"));
                assertEquals(-7, m.get("i32"));
                assertEquals(1.5f, m.get("f32"));
                assertEquals(true, m.get("bool"));
                assertEquals("héllo 世界", m.get("str"));
                assertEquals(List.of(1L, 2L, 3L), m.get("arr_u32"));
                assertEquals(List.of("a", "", "ü"), m.get("arr_str"));
                assertEquals(List.of(List.of(-1, 5), List.of(0.25f)), m.get("arr_nested"));
                assertEquals(1L << 40, m.get("u64"));
                assertEquals(-1L, m.get("i64"));
                assertEquals(2.25, m.get("f64"));
                assertEquals("ARRAY<STRING>", g.valueType("arr_str").orElseThrow());
                assertEquals("UINT32", g.valueType("u32").orElseThrow());
            }
        }
    }

    @Test
    void typedAccessors_convertOrNameTheKey() throws Exception {
        try (GgufFile g = GgufFile.open(everyValueType(3).write(dir, "acc.gguf"))) {
            assertEquals(200, g.getInt("u8", 0));
            assertEquals(-7, g.getInt("i32", 0));
            assertEquals(42, g.getInt("absent", 42));
            assertEquals(4_000_000_000L, g.getLong("u32", 0));
            assertEquals(1.5, g.getDouble("f32", 0));
            assertTrue(g.getBool("bool", false));
            assertEquals("héllo 世界", g.getString("str").orElseThrow());
            assertEquals(List.of("a", "", "ü"), g.getStringList("arr_str").orElseThrow());
            assertArrayEquals(new int[] {1, 2, 3}, g.getIntArray("arr_u32").orElseThrow());
            assertArrayEquals(new float[] {-0.5f, 3f}, g.getFloatArray("arr_f32").orElseThrow());
            assertTrue(g.getStringList("absent").isEmpty());
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> g.getInt("u32", 0));
            assertTrue(e.getMessage().contains("'u32'"), e.getMessage());
            e = assertThrows(CheckpointFormatException.class, () -> g.getInt("str", 0));
            assertTrue(e.getMessage().contains("'str' is STRING, expected an integer"), e.getMessage());
            assertThrows(CheckpointFormatException.class, () -> g.getStringList("arr_u32"));
        }
    }

    @Test
    void tensors_customAlignment_infosAndDataExact() throws Exception {
        byte[] q8 = new byte[34];
        q8[1] = 0x3C; // d = 1.0
        for (int j = 0; j < 32; j++) {
            q8[2 + j] = (byte) (j - 3);
        }
        Path p = new GgufTestWriter().alignment(64)
                .tensor("w", new long[] {3, 2}, 0, floatsLe(1, 2, 3, 4, 5, 6))
                .tensor("q", new long[] {32}, GgmlType.Q8_0.id(), q8)
                .write(dir, "t.gguf");
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            GgufTensorInfo w = g.tensor("w").orElseThrow();
            assertArrayEquals(new long[] {3, 2}, w.ne());
            assertArrayEquals(new long[] {2, 3}, w.shape());
            assertEquals(GgmlType.F32, w.type());
            assertEquals(24, w.byteSize());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, g.dequantize("w"));
            GgufTensorInfo q = g.tensor("q").orElseThrow();
            assertEquals(64, q.offset());
            assertEquals(34, q.byteSize());
            float[] v = g.dequantize(q);
            assertEquals(-3f, v[0]);
            assertEquals(28f, v[31]);
            ByteBuffer raw = g.tensorData(q);
            assertEquals(34, raw.capacity());
            assertEquals(0x3C, raw.get(1));
        }
    }

    @Test
    void dequantize_tensorOverSeveralReadWindows_equalsScalarKernel() throws Exception {
        int blocks = 60_000; // 1.2 MB of Q4_1: read in two windows
        byte[] bytes = new byte[blocks * GgmlType.Q4_1.typeSize()];
        new java.util.Random(3).nextBytes(bytes);
        for (int b = 0; b < blocks; b++) { // finite fp16 scale and min (exponent bits below all-ones)
            bytes[b * 20 + 1] &= 0x3B;
            bytes[b * 20 + 3] &= 0x3B;
        }
        Path p = new GgufTestWriter().tensor("big", new long[] {32L * blocks}, GgmlType.Q4_1.id(), bytes)
                .write(dir, "big.gguf");
        float[] want = new float[32 * blocks];
        GgmlKernels.dequantize(GgmlType.Q4_1, bytes, 0, want, 0, blocks);
        try (GgufFile g = GgufFile.open(p)) {
            GgufTensorInfo t = g.tensor("big").orElseThrow();
            assertArrayEquals(want, g.dequantize(t));
            java.nio.FloatBuffer direct = ByteBuffer.allocateDirect(4 * want.length)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            g.dequantizeInto(t, direct);
            float[] got = new float[want.length];
            direct.get(0, got);
            assertArrayEquals(want, got);
        }
    }

    @Test
    void unsupportedType_opensButReadIsRefused() throws Exception {
        Path p = new GgufTestWriter().tensor("iq", new long[] {256}, GgmlType.IQ2_XXS.id(), new byte[66])
                .write(dir, "iq.gguf");
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(GgmlType.IQ2_XXS, g.tensor("iq").orElseThrow().type());
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> g.dequantize("iq"));
            assertTrue(e.getMessage().contains("tensor 'iq'") && e.getMessage().contains("IQ2_XXS"), e.getMessage());
        }
    }
}
