package io.peft4j.cli;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code peft4j eval} on inputs that used to give a misleading answer: a model whose logits are NaN (the loss was
 * printed as the string "NaN"), an empty adapter folder and a dataset with malformed UTF-8.
 */
class EvalCommandErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void eval_nonFiniteLoss_exits2_andJsonHasNoNaNString() throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("nan"), TinyModelFolder.TINY, 3, arrays -> {
            NDArray norm = arrays.get("model.norm.weight");
            norm.set(new ai.djl.ndarray.index.NDIndex("0"), Float.NaN);
        });
        Path data = Files.writeString(tmp.resolve("d.txt"), "a b c a b c b a");
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("peft4j: eval: the loss") && r.err().contains("NaN"), r.err());
        JsonNode j = r.json();
        assertEquals(2, j.get("exit_code").asInt(), r.out());
        assertFalse(j.has("loss"), r.out());
        assertFalse(r.out().contains("\"NaN\"") || r.out().contains(":NaN"), r.out());
    }

    @Test
    void eval_emptyAdapterFolder_oneLineExit2NamingTheFile() throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("m"), TinyModelFolder.TINY, 3);
        Path data = Files.writeString(tmp.resolve("d.txt"), "a b c a b c b a");
        Path empty = Files.createDirectory(tmp.resolve("empty-adapter"));
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--adapter", empty.toString(), "--data",
                data.toString());
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("peft4j: ") && last.contains("adapter_config.json"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void eval_invalidUtf8_namesLineAndByteOffset_bomAccepted() throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("m"), TinyModelFolder.TINY, 3);
        Path bad = tmp.resolve("bad.jsonl");
        Files.write(bad, concat("{\"text\":\"a b c\"}\n{\"text\":\"a ".getBytes(), new byte[] {(byte) 0xFF},
                " b\"}\n".getBytes()));
        CliRun r = CliRun.of("eval", "--model", model.toString(), "--data", bad.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(bad + ":2: invalid UTF-8 at byte offset 28"), r.err());
        Path bom = tmp.resolve("bom.txt");
        Files.write(bom, concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, "a b c a b".getBytes()));
        Path plain = Files.writeString(tmp.resolve("plain.txt"), "a b c a b");
        double withBom = CliRun.of("eval", "--model", model.toString(), "--data", bom.toString(), "--json").json()
                .get("loss").asDouble();
        double without = CliRun.of("eval", "--model", model.toString(), "--data", plain.toString(), "--json").json()
                .get("loss").asDouble();
        assertEquals(without, withBom, 1e-9, "a BOM is skipped, not read as text");
    }

    @Test
    void integerWeights_refusedAtLoad_exit2NamingTensorAndDtype() throws Exception {
        Path data = Files.writeString(tmp.resolve("d.txt"), "a b c a b c b a");
        for (String name : new String[] {"model.norm.weight", "model.layers.0.self_attn.q_proj.weight"}) {
            Path model = TinyModelFolder.write(tmp.resolve(name), TinyModelFolder.TINY, 3, arrays ->
                    arrays.put(name, arrays.get(name).toType(ai.djl.ndarray.types.DataType.INT32, false)));
            for (String[] args : new String[][] {{"eval", "--model", model.toString(), "--data", data.toString()},
                {"generate", "--model", model.toString(), "--prompt", "a b", "--max-new-tokens", "2"}}) {
                CliRun r = CliRun.of(args);
                assertEquals(2, r.code(), r.err());
                String[] lines = r.err().strip().split("\n");
                String last = lines[lines.length - 1];
                assertTrue(last.contains("'" + name + "'") && last.contains("dtype I32"), r.err());
            }
        }
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
