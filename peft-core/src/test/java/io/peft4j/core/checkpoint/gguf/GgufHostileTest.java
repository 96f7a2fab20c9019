package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_ARRAY;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_BOOL;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_STRING;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.T_UINT8;
import static io.peft4j.core.checkpoint.gguf.GgufTestWriter.floatsLe;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of crafted hostile GGUF files: each is refused with a {@link CheckpointFormatException} whose message
 * names the file and says what is wrong (no OOM, no crash, no generic error).
 */
class GgufHostileTest {
    private static final int F32 = 0;
    private static final int Q4_0 = 2;

    @TempDir
    Path dir;

    private static GgufTestWriter valid() {
        return new GgufTestWriter().kvString("general.architecture", "llama")
                .tensor("a", new long[] {4}, F32, floatsLe(1, 2, 3, 4));
    }

    private void refused(byte[] file, String... fragments) throws Exception {
        Path p = dir.resolve("hostile-" + System.nanoTime() + ".gguf");
        Files.write(p, file);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> GgufFile.open(p).close());
        String m = e.getMessage();
        assertTrue(m.contains(p.getFileName().toString()), "message must name the file: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message should contain '" + f + "': " + m);
        }
    }

    @Test
    void emptyFile_refused() throws Exception {
        refused(new byte[0], "truncated", "magic");
    }

    @Test
    void badMagic_refused() throws Exception {
        GgufTestWriter w = valid();
        w.magic = 0x4C4C5546; // "FULL"
        refused(w.build(), "not a GGUF file", "magic");
    }

    @Test
    void unsupportedVersions_refused() throws Exception {
        GgufTestWriter v1 = valid();
        v1.version = 1;
        refused(v1.build(), "unsupported GGUF version 1", "obsolete");
        GgufTestWriter v4 = valid();
        v4.version = 4;
        refused(v4.build(), "unsupported GGUF version 4");
        GgufTestWriter bigEndian = valid();
        bigEndian.version = 0x0300_0000L;
        refused(bigEndian.build(), "big-endian");
    }

    @Test
    void truncatedHeader_refused() throws Exception {
        byte[] full = new GgufTestWriter().kvString("general.architecture", "llama")
                .kvString("general.name", "a model with a long name").build();
        refused(Arrays.copyOf(full, 95), "truncated file", "metadata 'general.name'");
    }

    @Test
    void stringLengthPastEof_refused() throws Exception {
        byte[] b = new GgufTestWriter().kv("general.name", T_STRING, o -> o.u64(5000).bytes(new byte[10])).build();
        refused(b, "metadata 'general.name'", "runs past the end of the file");
    }

    @Test
    void hugeStringLength_refused() throws Exception {
        byte[] b = new GgufTestWriter().kv("general.name", T_STRING, o -> o.u64(-2L)).build();
        refused(b, "metadata 'general.name'", "exceeds the cap");
    }

    @Test
    void hugeArrayCount_refused() throws Exception {
        byte[] b = new GgufTestWriter().kv("tokenizer.ggml.tokens", T_ARRAY, o -> o.u32(T_STRING).u64(1L << 40))
                .build();
        refused(b, "tokenizer.ggml.tokens", "array length 1099511627776 exceeds the cap");
        byte[] c = new GgufTestWriter().kv("tokenizer.ggml.scores", T_ARRAY, o -> o.u32(T_UINT8).u64(1_000_000))
                .build();
        refused(c, "tokenizer.ggml.scores", "only");
    }

    @Test
    void deeplyNestedArrays_refused() throws Exception {
        byte[] b = new GgufTestWriter().kv("x", T_ARRAY, o -> {
            for (int i = 0; i < 6; i++) {
                o.u32(T_ARRAY).u64(1);
            }
            o.u32(T_UINT8).u64(1).u8(1);
        }).build();
        refused(b, "metadata 'x'", "nested deeper");
    }

    @Test
    void unknownValueTypeAndBadBool_refused() throws Exception {
        refused(new GgufTestWriter().kv("x", 13, o -> o.u32(0)).build(), "metadata 'x'", "unknown metadata value type 13");
        refused(new GgufTestWriter().kv("flag", T_BOOL, o -> o.u8(7)).build(), "metadata 'flag'", "bool byte is 7");
    }

    @Test
    void duplicateKey_refused() throws Exception {
        refused(valid().kvString("general.architecture", "qwen2").build(), "duplicate metadata key",
                "general.architecture");
    }

    @Test
    void hugeTensorCount_refused() throws Exception {
        GgufTestWriter w = valid();
        w.tensorCountOverride = 1L << 19;
        refused(w.build(), "tensor_count 524288 cannot fit");
        GgufTestWriter x = valid();
        x.kvCountOverride = -1L;
        refused(x.build(), "metadata_kv_count", "exceeds the cap");
    }

    @Test
    void tensorOffsetOutOfRange_refused() throws Exception {
        byte[] b = valid().tensorAt("b", new long[] {8}, F32, new byte[0], 1L << 30).build();
        refused(b, "tensor 'b'", "runs past the end of the file");
    }

    @Test
    void unknownGgmlType_refused() throws Exception {
        refused(valid().tensor("b", new long[] {4}, 55, new byte[16]).build(), "tensor 'b'", "unknown ggml type 55");
    }

    @Test
    void dimensionsOverflowOrInvalid_refused() throws Exception {
        long big = 1L << 40;
        refused(valid().tensor("b", new long[] {big, big}, F32, new byte[0]).build(), "tensor 'b'", "overflow");
        refused(valid().tensor("c", new long[] {1, 1, 1, 1, 1}, F32, new byte[4]).build(), "tensor 'c'",
                "n_dimensions 5");
        refused(valid().tensor("d", new long[] {0}, F32, new byte[0]).build(), "tensor 'd'", "dimension 0 is 0");
        refused(valid().tensor("e", new long[] {48}, Q4_0, new byte[27]).build(), "tensor 'e'",
                "not a multiple of the Q4_0 block size 32");
    }

    @Test
    void misalignedOrOverlappingData_refused() throws Exception {
        refused(valid().tensorAt("b", new long[] {2}, F32, new byte[8], 8).build(), "tensor 'b'",
                "not a multiple of the alignment 32");
        refused(valid().tensorAt("b", new long[] {4}, F32, new byte[16], 0).build(), "tensor 'b'", "overlaps",
                "tensor 'a'");
    }

    @Test
    void duplicateTensorName_refused() throws Exception {
        refused(valid().tensor("a", new long[] {4}, F32, floatsLe(5, 6, 7, 8)).build(), "duplicate tensor name 'a'");
    }

    @Test
    void badAlignment_refused() throws Exception {
        refused(valid().alignment(24).build(), "general.alignment", "not a power of two");
        refused(new GgufTestWriter().kvString("general.alignment", "32").build(), "general.alignment",
                "must be a UINT32");
    }
}
