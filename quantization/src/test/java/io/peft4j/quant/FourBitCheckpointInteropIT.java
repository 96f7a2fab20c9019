package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.checkpoint.HfFolderWriter;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 4-bit checkpoints between peft4j and transformers 5 + bitsandbytes 0.50 (CPU) on SmolLM2-135M, NF4 + double
 * quantization, block 64 ({@code scripts/interop/bnb_checkpoint_roundtrip.py} is the Python side):
 * <ol>
 * <li>peft4j quantizes and saves; transformers loads the folder ({@code from_pretrained}, 210 Linear4bit) and its
 * logits on a fixed prompt match peft4j's in-memory model within 1e-3 (peft4j's own reload matches bit for bit);</li>
 * <li>transformers quantizes a dense folder written by peft4j and {@code save_pretrained}s it; every stored weight
 * equals peft4j's quantization of the same fp32 tensor byte for byte, and peft4j's logits on that folder match
 * Python's within 1e-3.</li>
 * </ol>
 * Python's reference logits use bitsandbytes' fp32 path (dequantize + linear); its fused bf16 CPU kernel (taken by
 * default on AVX512-BF16 CPUs) differs by far more and is only logged (see the script's docstring).
 */
class FourBitCheckpointInteropIT {
    private static final Logger LOG = LoggerFactory.getLogger(FourBitCheckpointInteropIT.class);
    private static final String PROMPT = "The capital of France is";
    private static final double TOLERANCE = 1e-3;

    @TempDir
    Path tmp;

    @Test
    void peft4jSavedNf4_loadsInTransformers_sameLogits() throws Exception {
        Path python = TestResources.referencePython();
        Path gguf = TestResources.testModel();
        Path dir = tmp.resolve("peft4j-nf4");
        try (Checkpoint ckpt = Checkpoints.open(gguf); NDManager m = Peft4j.newManager()) {
            int[] ids = ckpt.tokenizer().encode(PROMPT, false);
            float[] ours;
            QuantizedCheckpointWriter.Summary s;
            try (LlamaModel q = LlamaModel.load(ckpt.config(), ckpt.tensors(),
                    new QuantizingLinearFactory(QuantConfig.nf4DoubleQuant()), m)) {
                ours = logits(q, ids, m);
                s = QuantizedCheckpointWriter.write(dir, q, ckpt.tokenizer());
            }
            LOG.warn("peft4j nf4 checkpoint: {} bytes/param over the quantized weights, {} over the whole model",
                    String.format("%.4f", s.bytesPerParam()), String.format("%.4f", s.bytesPerParamAll()));
            assertTrue(s.bytesPerParam() <= 0.52, "bytes/param " + s.bytesPerParam());
            assertArrayEquals(ours, reload(dir, ids, m), "peft4j's own reload of its folder");
            JsonNode py = runPython(python, List.of("load", dir.toString(), join(ids)), tmp.resolve("a.safetensors"));
            assertEquals(210, py.get("linear4bit_modules").asInt(), py.toString());
            double d = maxAbsDiff(ours, readLogits(tmp.resolve("a.safetensors")));
            LOG.warn("peft4j-saved nf4 folder in transformers: max |Δlogit| {} (fp32 path); bitsandbytes' fused bf16 "
                    + "CPU path differs from it by {}", d, py.get("fused_bf16_max_abs_diff"));
            assertTrue(d < TOLERANCE, "max |Δ logits| " + d);
        }
    }

    @Test
    void transformersSavedNf4_loadsInPeft4j_sameBytesAndLogits() throws Exception {
        Path python = TestResources.referencePython();
        Path gguf = TestResources.testModel();
        Path dense = tmp.resolve("dense");
        Path dir = tmp.resolve("python-nf4");
        int[] ids;
        try (Checkpoint ckpt = Checkpoints.open(gguf)) {
            ids = ckpt.tokenizer().encode(PROMPT, false);
            HfFolderWriter.write(dense, ckpt.config(), ckpt.tensors(), ckpt.tokenizer(), Map.of("format", "pt"));
        }
        JsonNode py = runPython(python, List.of("quantize", dense.toString(), dir.toString(), join(ids)),
                tmp.resolve("b.safetensors"));
        assertEquals("nf4", py.get("quant_type").asText());
        assertEquals(true, py.get("nested").asBoolean(), py.toString());
        try (Checkpoint ck = QuantizedCheckpoints.open(dir); TensorSource fp32 = SafetensorsReader.openModelFolder(dense);
             NDManager m = Peft4j.newManager()) {
            QuantizedTensorSource stored = (QuantizedTensorSource) ck.tensors();
            assertEquals(210, stored.quantizedNames().size());
            for (String name : stored.quantizedNames()) {
                QuantizedTensor theirs = stored.quantized(name).orElseThrow();
                assertEquals(Quantizer.quantize(name, fp32.readFloats(name), fp32.shape(name),
                        QuantConfig.nf4DoubleQuant()), theirs, name + ": packed codes / absmax / nested stats");
            }
            LinearLayerFactory f = QuantizedCheckpoints.linearFactory(ck, "nf4");
            float[] ours;
            try (LlamaModel q = LlamaModel.load(ck.config(), ck.tensors(), f, m)) {
                ours = logits(q, ids, m);
            }
            double d = maxAbsDiff(ours, readLogits(tmp.resolve("b.safetensors")));
            LOG.warn("transformers-saved nf4 folder in peft4j: 210 weights byte-identical, max |Δlogit| {}", d);
            assertTrue(d < TOLERANCE, "max |Δ logits| " + d);
        }
    }

    private static float[] reload(Path dir, int[] ids, NDManager m) throws Exception {
        try (Checkpoint ck = QuantizedCheckpoints.open(dir);
             LlamaModel back = LlamaModel.load(ck.config(), ck.tensors(), QuantizedCheckpoints.linearFactory(ck,
                     "none"), m)) {
            return logits(back, ids, m);
        }
    }

    private static float[] logits(LlamaModel model, int[] ids, NDManager m) {
        try (NDManager step = m.newSubManager()) {
            NDArray input = step.create(ids).reshape(1, ids.length);
            return model.forward(input, null, null).toFloatArray();
        }
    }

    private JsonNode runPython(Path python, List<String> args, Path out) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(python.toString(),
                TestResources.repoRoot().resolve("scripts/interop/bnb_checkpoint_roundtrip.py").toString()));
        cmd.addAll(args);
        cmd.add(out.toString());
        Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve("python.err").toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        String err = java.nio.file.Files.readString(tmp.resolve("python.err"));
        assertEquals(0, rc, "python failed: " + err.substring(Math.max(0, err.length() - 3000)));
        String[] lines = stdout.strip().split("\n");
        return Json.MAPPER.readTree(lines[lines.length - 1]);
    }

    private static float[] readLogits(Path file) throws Exception {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.readFloats("logits");
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "logit count");
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    private static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
