package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quality of the codecs on the real SmolLM2-135M weights (QLoRA, arXiv 2305.14314, Table 2 style): per-codec RMSE
 * over the projections of four layers, and perplexity of the whole model on held text (the first GSM8K test
 * records) with every projection quantized, against fp32. Prints the table.
 *
 * <p>Measured (256 tokens; RMSE over the projections of layers 0, 10, 20, 29):
 * <pre>
 * codec       | block | dq | RMSE      | perplexity | vs fp32 | bitsandbytes + transformers
 * fp32        |       |    | 0         | 13.058     |         | 13.058
 * nf4         |    64 | y  | 0.0183703 | 18.576     | +42.3%  | 18.577
 * fp4         |    64 | y  | 0.0247155 | 17.661     | +35.2%  | 17.661
 * int8        |    64 | n  | 0.0019117 | 13.245     |  +1.4%  | 13.246
 * nf4/32      |    32 | y  | 0.0173081 | 16.688     | +27.8%  | 16.688
 * nf4/64-nodq |    64 | n  | 0.0183524 | 18.561     | +42.1%  | 18.561
 * </pre>
 * The "NF4 within +10% of fp32" does NOT hold for this 135M model, and not because of peft4j: bitsandbytes
 * quantizing the same weights gives the same perplexity to 4 digits (scripts/interop/quant_perplexity.py, checked
 * here within 0.1%). Double quantization costs nothing measurable (+42.1% without it); halving the block to 32 (the
 * source's Q4_1 block) recovers a third of the gap (+27.8%); the only weights available are already 4-bit Q4_1, so
 * NF4 re-quantizes one 4-bit grid onto another, and small models are known to be sensitive to 4-bit
 * round-to-nearest. This test asserts what holds (NF4 RMSE below FP4, INT8 within +10%, 4-bit perplexity below
 * 2x fp32, every perplexity equal to bitsandbytes') and prints the table.
 */
class QuantizationQualityIT {
    private static final Logger LOG = LoggerFactory.getLogger(QuantizationQualityIT.class);
    private static final int TOKENS = 256;

    @Test
    void realWeights_rmseAndPerplexity_nf4RmseBelowFp4AndPerplexityBounded() throws Exception {
        Path gguf = TestResources.testModel();
        Path text = TestResources.shared("datasets/gsm8k/test.jsonl");
        try (Checkpoint ckpt = Checkpoints.open(gguf); NDManager m = Peft4j.newManager()) {
            Map<String, QuantConfig> rows = new LinkedHashMap<>();
            for (QuantType t : QuantType.values()) { // the table: block 64, double quant for the 4-bit codecs
                rows.put(t.bnbName(), new QuantConfig(t, 64, t != QuantType.INT8));
            }
            // rows that explain the NF4 gap: the same codec with finer blocks (the source is Q4_1 at block 32) and
            // without double quantization (isolates the 8-bit absmax error)
            rows.put("nf4/32", new QuantConfig(QuantType.NF4, 32, true));
            rows.put("nf4/64-nodq", new QuantConfig(QuantType.NF4, 64, false));
            Map<String, Double> rmse = new LinkedHashMap<>();
            for (Map.Entry<String, QuantConfig> e : rows.entrySet()) {
                rmse.put(e.getKey(), rmse(ckpt.tensors(), e.getValue()));
            }
            int[] ids = heldTokens(ckpt, text);
            Map<String, Double> ppl = new LinkedHashMap<>();
            ppl.put("fp32", perplexity(ckpt, DenseLinearFactory.INSTANCE, ids, m));
            for (Map.Entry<String, QuantConfig> e : rows.entrySet()) {
                ppl.put(e.getKey(), perplexity(ckpt, new QuantizingLinearFactory(e.getValue()), ids, m));
            }
            JsonNode py = pythonReference(ids);
            String table = table(rows, rmse, ppl, py, ids.length);
            LOG.info("quantization quality on {}:{}", gguf.getFileName(), table);
            System.err.println(table);
            // independent check: bitsandbytes' quantize -> dequantize of the same weights in transformers
            for (Map.Entry<String, Double> e : ppl.entrySet()) {
                double want = py.get(e.getKey()).asDouble();
                assertEquals(want, e.getValue(), 1e-3 * want, e.getKey() + " perplexity vs bitsandbytes: " + table);
            }
            assertTrue(rmse.get("nf4") < rmse.get("fp4"), "NF4 RMSE below FP4: " + rmse);
            assertTrue(rmse.get("int8") < rmse.get("nf4"), "INT8 RMSE below NF4: " + rmse);
            assertTrue(ppl.get("int8") <= 1.10 * ppl.get("fp32"), "INT8 perplexity within +10% of fp32: " + ppl);
            assertTrue(ppl.get("nf4") < 2 * ppl.get("fp32") && ppl.get("fp4") < 2 * ppl.get("fp32"),
                    "4-bit perplexity below 2x fp32: " + ppl);
        }
    }

    /** scripts/interop/quant_perplexity.py's perplexities, after checking it scored the same tokens. */
    private static JsonNode pythonReference(int[] ids) throws Exception {
        try (InputStream in = QuantizationQualityIT.class.getResourceAsStream("/interop/quant_perplexity.json")) {
            assertNotNull(in, "interop/quant_perplexity.json (run scripts/interop/quant_perplexity.py)");
            JsonNode j = Json.MAPPER.readTree(in);
            int[] want = new int[j.get("input_ids").size()];
            for (int i = 0; i < want.length; i++) {
                want[i] = j.get("input_ids").get(i).asInt();
            }
            assertArrayEquals(want, ids, "held tokens differ from the Python reference's");
            return j.get("perplexity");
        }
    }

    private static String table(Map<String, QuantConfig> rows, Map<String, Double> rmse, Map<String, Double> ppl,
                                JsonNode py, int tokens) {
        double base = ppl.get("fp32");
        StringBuilder t = new StringBuilder(String.format("%ncodec       | block | dq | RMSE (layers 0,10,20,29) | "
                + "perplexity (%d tokens) | vs fp32 | bitsandbytes + transformers%n", tokens));
        t.append(String.format("fp32        |       |    | 0           | %.3f |        | %.3f%n", base,
                py.get("fp32").asDouble()));
        rows.forEach((k, c) -> t.append(String.format("%-11s | %5d | %-2s | %.6g | %.3f | %+.1f%% | %.3f%n", k,
                c.blockSize(), c.doubleQuant() ? "y" : "n", rmse.get(k), ppl.get(k), 100 * (ppl.get(k) / base - 1),
                py.get(k).asDouble())));
        return t.toString();
    }

    private static double rmse(TensorSource w, QuantConfig cfg) throws Exception {
        double sq = 0;
        long n = 0;
        for (int layer : new int[] {0, 10, 20, 29}) {
            for (String p : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                String name = "model.layers." + layer + "." + p + ".weight";
                float[] x = w.readFloats(name);
                float[] back = Quantizer.dequantize(Quantizer.quantize(name, x, w.shape(name), cfg));
                for (int i = 0; i < x.length; i++) {
                    double d = back[i] - x[i];
                    sq += d * d;
                }
                n += x.length;
            }
        }
        return Math.sqrt(sq / n);
    }

    private static int[] heldTokens(Checkpoint ckpt, Path jsonl) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(jsonl).subList(0, 12)) {
            JsonNode r = Json.MAPPER.readTree(line);
            sb.append(r.get("question").asText()).append('\n').append(r.get("answer").asText()).append("\n\n");
        }
        int[] ids = ckpt.tokenizer().encode(sb.toString(), false);
        return Arrays.copyOf(ids, Math.min(TOKENS, ids.length));
    }

    private static double perplexity(Checkpoint ckpt, LinearLayerFactory f, int[] ids, NDManager m) throws Exception {
        try (LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), f, m); NDScope scope = new NDScope()) {
            NDArray logits = model.forward(m.create(ids).reshape(1, ids.length), null, null);
            float[] lp = logits.logSoftmax(-1).toFloatArray();
            int v = ckpt.config().vocabSize();
            double nll = 0;
            for (int t = 0; t + 1 < ids.length; t++) {
                nll -= lp[t * v + ids[t + 1]];
            }
            return Math.exp(nll / (ids.length - 1));
        }
    }
}
