package io.peft4j.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Python {@code safetensors} library (reference venv) reads a file peft4j wrote: same bytes, shapes, metadata. */
class SafetensorsInteropIT {
    private static final Map<String, String> TORCH_NAMES = Map.of("F32", "float32", "F16", "float16",
            "BF16", "bfloat16", "F64", "float64", "I8", "int8", "U8", "uint8", "I16", "int16", "I32", "int32",
            "I64", "int64", "BOOL", "bool");

    @TempDir
    Path dir;

    @Test
    void pythonLibrary_readsOurFile_bitExact() throws Exception {
        Path python = TestResources.referencePython();
        Path script = TestResources.repoRoot().resolve("scripts/interop/safetensors_reference.py");
        Map<String, TensorData> tensors = SafetensorsRoundTripTest.everyDtype(11);
        Map<String, String> meta = Map.of("format", "pt", "peft4j.base", "SmolLM2 ünï 🙂", "seed", "11");
        Path file = dir.resolve("ours.safetensors");
        SafetensorsWriter.write(file, tensors, meta);

        Process p = new ProcessBuilder(List.of(python.toString(), script.toString(), "dump", file.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), "python refused our file: " + out);

        JsonNode dump = Json.MAPPER.readTree(out);
        assertEquals(meta, Json.MAPPER.convertValue(dump.get("metadata"), Map.class));
        assertEquals(tensors.size(), dump.get("tensors").size());
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            JsonNode t = dump.get("tensors").get(e.getKey());
            assertEquals(TORCH_NAMES.get(e.getValue().dtype()), t.get("dtype").asText(), e.getKey());
            assertEquals(e.getValue().shape().length, t.get("shape").size(), e.getKey());
            for (int i = 0; i < e.getValue().shape().length; i++) {
                assertEquals(e.getValue().shape()[i], t.get("shape").get(i).asLong(), e.getKey());
            }
            assertEquals(hex(e.getValue().data()), t.get("hex").asText(), e.getKey() + " bytes");
        }
    }

    private static String hex(ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
