package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j quantize} and {@code --quantize} on a tiny random dense folder: contract keys, 4-bit folder use, errors. */
class QuantizeCommandTest {
    private static final ModelConfig TINY = TinyModelFolder.TINY;

    @TempDir
    Path tmp;

    @Test
    void quantize_nf4DoubleQuant_jsonKeysAndFolderUsableByInspectAndGenerate() throws Exception {
        Path dense = denseFolder();
        Path out = tmp.resolve("nf4");
        CliRun q = CliRun.of("quantize", "--model", dense.toString(), "--output", out.toString(), "--type", "nf4",
                "--double-quant", "--json");
        assertEquals(0, q.code(), q.err());
        JsonNode j = q.json();
        for (String key : new String[] {"output", "bytes_per_param", "bytes_per_param_all", "seconds"}) {
            assertTrue(j.has(key), key + " in " + j);
        }
        // 0.5 for the codes + scales; on these tiny weights the 1 KB nested code table per weight adds ~0.2
        // (FourBitCheckpointInteropIT asserts <= 0.52 on SmolLM2's real weights)
        assertTrue(j.get("bytes_per_param").asDouble() > 0.5 && j.get("bytes_per_param").asDouble() < 0.75,
                j.toString());
        assertTrue(j.get("bytes_per_param_all").asDouble() > j.get("bytes_per_param").asDouble(), j.toString());
        CliRun inspect = CliRun.of("inspect", "--model", out.toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        assertEquals(14, inspect.json().get("dtypes").get("NF4").asInt(), inspect.out());
        assertEquals(TINY.parameterCount(), inspect.json().get("parameters").asLong());
        // inspect reports bytes per parameter of the quantized weights apart from the whole model, as quantize does
        JsonNode in = inspect.json();
        assertEquals(j.get("quantized_parameters").asLong(), in.get("quantized_parameters").asLong(), in.toString());
        // inspect counts the bytes as stored, so also each weight's quant_state JSON (~200 bytes: +0.04 on these
        // tiny weights, +0.0001 on SmolLM2's)
        double written = j.get("bytes_per_param").asDouble();
        double stored = in.get("bytes_per_param_quantized").asDouble();
        assertTrue(stored >= written && stored < written + 0.05, "inspect " + stored + " vs quantize " + written);
        assertEquals(in.get("bytes_per_param").asDouble(), in.get("bytes_per_param_all").asDouble(), in.toString());
        assertTrue(in.get("bytes_per_param_all").asDouble() > in.get("bytes_per_param_quantized").asDouble(),
                in.toString());
        CliRun gen = CliRun.of("generate", "--model", out.toString(), "--prompt", "a b", "--max-new-tokens", "2",
                "--json");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.json().get("peak_rss_mb").asLong() > 0, gen.out());
    }

    @Test
    void quantizeOption_badOrConflictingType_exit2WithOneLine() throws Exception {
        Path dense = denseFolder();
        CliRun bad = CliRun.of("generate", "--model", dense.toString(), "--quantize", "int5", "--prompt", "a");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("int5"), bad.err());
        Path out = tmp.resolve("fp4");
        assertEquals(0, CliRun.of("quantize", "--model", dense.toString(), "--output", out.toString(), "--type",
                "fp4").code());
        CliRun conflict = CliRun.of("eval", "--model", out.toString(), "--quantize", "nf4", "--data",
                dense.resolve("config.json").toString());
        assertEquals(2, conflict.code(), conflict.err());
        assertTrue(conflict.err().contains("already quantized to fp4"), conflict.err());
        CliRun again = CliRun.of("quantize", "--model", out.toString(), "--output", tmp.resolve("x").toString());
        assertEquals(2, again.code(), again.err());
        CliRun block = CliRun.of("quantize", "--model", dense.toString(), "--output", tmp.resolve("y").toString(),
                "--block-size", "48");
        assertEquals(2, block.code(), block.err());
        assertTrue(block.err().contains("blockSize"), block.err());
    }

    private Path denseFolder() throws Exception {
        return TinyModelFolder.write(tmp.resolve("dense"), TINY, 5);
    }
}
