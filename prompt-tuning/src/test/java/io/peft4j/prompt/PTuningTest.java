package io.peft4j.prompt;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.prompt.internal.LstmPromptEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.peft4j.prompt.TinyModels.HIDDEN;
import static io.peft4j.prompt.TinyModels.logits;
import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PTuningTest {
    @TempDir
    Path tmp;

    @Test
    void config_peftJson_roundTripsAndDefaults() throws PeftException {
        String json = "{\"peft_type\":\"P_TUNING\",\"num_virtual_tokens\":4,\"encoder_hidden_size\":16,"
                + "\"peft_version\":\"0.21.2\"}";
        PromptEncoderConfig c = assertInstanceOf(PromptEncoderConfig.class, AdapterConfig.fromJson(json, "t"));
        assertEquals(EncoderReparameterizationType.MLP, c.encoderReparameterizationType());
        assertEquals(2, c.encoderNumLayers());
        assertEquals(0.0, c.encoderDropout());
        assertEquals(c, AdapterConfig.fromJson(c.toJson(), "again"));
        assertTrue(c.toJson().contains("\"peft_version\""));
    }

    @Test
    void attach_noHiddenSize_failsNamingTheField() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            PromptEncoderConfig none = PromptEncoderConfig.builder().setNumVirtualTokens(4).build();
            String b = assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("b", none, 1L)).getMessage();
            assertTrue(b.contains("encoder_hidden_size"), b);
        }
    }

    @Test
    void lstmEncoder_equalsScalarBidirectionalLstmPlusMlpHead() {
        int p = 5;
        int dim = 6;
        int e = 3;
        int layers = 2;
        try (NDManager m = Peft4j.newManager();
             LstmPromptEncoder enc = new LstmPromptEncoder(m, p, dim, e, layers, 0.0, 9L)) {
            List<double[]> w = enc.trainableParameters().stream().map(a -> toDoubles(a.toFloatArray())).toList();
            // table; per layer and direction W_ih, W_hh, b_ih, b_hh; head W1, b1, W2, b2
            assertEquals(1 + layers * 2 * 4 + 4, w.size());
            assertEquals(p * dim + (4 * e * dim + 4 * e * e + 8 * e) * 2 + (4 * e * 2 * e + 4 * e * e + 8 * e) * 2
                    + (2 * e * 2 * e + 2 * e) + (dim * 2 * e + dim), enc.parameterCount());
            double[][] x = rows(w.get(0), p, dim);
            int k = 1;
            for (int l = 0; l < layers; l++) {
                double[][] fwd = scalarLstm(x, w.get(k), w.get(k + 1), w.get(k + 2), w.get(k + 3), e, false);
                double[][] bwd = scalarLstm(x, w.get(k + 4), w.get(k + 5), w.get(k + 6), w.get(k + 7), e, true);
                k += 8;
                double[][] next = new double[p][2 * e];
                for (int t = 0; t < p; t++) {
                    System.arraycopy(fwd[t], 0, next[t], 0, e);
                    System.arraycopy(bwd[t], 0, next[t], e, e);
                }
                x = next;
            }
            double[][] hid = linear(x, w.get(k), w.get(k + 1), 2 * e);
            for (double[] row : hid) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = Math.max(0, row[j]);
                }
            }
            double[][] want = linear(hid, w.get(k + 2), w.get(k + 3), dim);
            float[] got = enc.prompts(false).toFloatArray();
            double worst = 0;
            for (int t = 0; t < p; t++) {
                for (int j = 0; j < dim; j++) {
                    worst = Math.max(worst, Math.abs(want[t][j] - got[t * dim + j]));
                }
            }
            assertTrue(worst < 1e-5, "LSTM encoder vs scalar reference: max |diff| " + worst);
        }
    }

    /** torch.nn.LSTM, one direction of one layer, zero initial state, gates i, f, g, o. */
    static double[][] scalarLstm(double[][] x, double[] wih, double[] whh, double[] bih, double[] bhh, int e,
                                 boolean reverse) {
        int steps = x.length;
        int in = x[0].length;
        double[] h = new double[e];
        double[] c = new double[e];
        double[][] out = new double[steps][];
        for (int i = 0; i < steps; i++) {
            int t = reverse ? steps - 1 - i : i;
            double[] g = new double[4 * e];
            for (int r = 0; r < 4 * e; r++) {
                double s = bih[r] + bhh[r];
                for (int j = 0; j < in; j++) {
                    s += wih[r * in + j] * x[t][j];
                }
                for (int j = 0; j < e; j++) {
                    s += whh[r * e + j] * h[j];
                }
                g[r] = s;
            }
            double[] nh = new double[e];
            for (int j = 0; j < e; j++) {
                double ig = 1 / (1 + Math.exp(-g[j]));
                double fg = 1 / (1 + Math.exp(-g[e + j]));
                double cg = Math.tanh(g[2 * e + j]);
                double og = 1 / (1 + Math.exp(-g[3 * e + j]));
                c[j] = fg * c[j] + ig * cg;
                nh[j] = og * Math.tanh(c[j]);
            }
            h = nh;
            out[t] = nh;
        }
        return out;
    }

    static double[][] linear(double[][] x, double[] w, double[] b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int r = 0; r < out; r++) {
                double s = b[r];
                for (int j = 0; j < in; j++) {
                    s += w[r * in + j] * x[t][j];
                }
                y[t][r] = s;
            }
        }
        return y;
    }

    static double[][] rows(double[] flat, int n, int cols) {
        double[][] out = new double[n][cols];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * cols, out[i], 0, cols);
        }
        return out;
    }

    static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void resume_lstmEncoder_reproducesUninterruptedLossCurve() throws Exception {
        PromptEncoderConfig config = PromptEncoderConfig.builder().setNumVirtualTokens(4).setEncoderHiddenSize(8)
                .optEncoderReparameterizationType(EncoderReparameterizationType.LSTM).build();
        TrainerConfig.Builder cfg = TrainerConfig.builder().optMaxSteps(6).optBatchSize(2).optLearningRate(1e-2);
        List<Double> full;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config, 3L);
            try (Trainer t = new Trainer(peft, cfg.build())) {
                full = t.train(PromptTuningTest.data(), null).losses();
            }
        }
        Path out = tmp.resolve("run");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config, 3L);
            try (Trainer t = new Trainer(peft, cfg.optOutputDir(out).optCheckpointEvery(3).build())) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        if (s.step() == 3) {
                            t.requestStop();
                        }
                    }
                });
                t.train(PromptTuningTest.data(), null);
            }
        }
        Path ckpt = Trainer.latestCheckpoint(out);
        assertTrue(Files.isRegularFile(ckpt.resolve("adapters/default/training_state.safetensors")), "encoder kept");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config, 99L);      // another seed: every encoder value must come from the file
            try (Trainer t = new Trainer(peft, cfg.optOutputDir(out).optCheckpointEvery(3).build())) {
                List<Double> rest = t.resume(ckpt, PromptTuningTest.data(), null).losses();
                assertEquals(full.size(), 6);
                for (int i = 0; i < rest.size(); i++) {
                    assertEquals(full.get(3 + i), rest.get(i), 1e-6, "loss of step " + (4 + i));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EncoderReparameterizationType.class)
    void train_lossFalls_savesEncoderOutput_loadsAsTableWithSameLogits(EncoderReparameterizationType type)
            throws Exception {
        Path dir = tmp.resolve("pt");
        float[] want;
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            Map<String, float[]> before = TinyModels.baseWeights(model);
            peft.addAdapter("default", PromptEncoderConfig.builder().setNumVirtualTokens(4).setEncoderHiddenSize(16)
                    .optEncoderReparameterizationType(type).build(), 3L);
            long params = type == EncoderReparameterizationType.MLP
                    // table 4x32 + Linear(32,16) + Linear(16,16) + Linear(16,32), with biases
                    ? 4 * 32 + (32 * 16 + 16) + (16 * 16 + 16) + (16 * 32 + 32)
                    // table + 2 layers x 2 directions of LSTM(in, 16) + Linear(32,32) + Linear(32,32->hidden 32)
                    : 4 * 32 + 2 * (64 * 32 + 64 * 16 + 128) + 2 * (64 * 32 + 64 * 16 + 128)
                    + (32 * 32 + 32) + (32 * 32 + 32);
            assertEquals(params, peft.trainableParameterCount());
            TrainingResult r;
            double evalBefore;
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(20).optBatchSize(4)
                    .optLearningRate(1e-2).build())) {
                evalBefore = t.evaluate(PromptTuningTest.data()).loss();
                r = t.train(PromptTuningTest.data(), PromptTuningTest.data());
            }
            System.err.printf("p-tuning (%s) tiny model: eval loss %.4f -> %.4f%n", type, evalBefore, r.evalLoss());
            assertTrue(r.evalLoss() < 0.7 * evalBefore, "loss falls: " + evalBefore + " -> " + r.evalLoss());
            before.forEach((k, v) -> assertArrayEquals(v, TinyModels.baseWeights(model).get(k), k + " changed"));
            want = logits(peft.asCausalLM(), TinyModels.ids(m));
            peft.save(dir);
        }
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertEquals(List.of("prompt_embeddings"), List.copyOf(r.names()));
            assertArrayEquals(new long[] {4, HIDDEN}, r.shape("prompt_embeddings"));
        }
        String json = Files.readString(dir.resolve("adapter_config.json"));
        assertTrue(json.contains("\"peft_type\" : \"P_TUNING\"") && json.contains("\"inference_mode\" : true")
                && json.contains("\"encoder_hidden_size\" : 16"), json);
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.loadAdapter(dir, "default");
            assertEquals(4L * HIDDEN, peft.trainableParameterCount(), "a loaded P-tuning adapter is its table");
            float d = maxDiff(want, logits(peft.asCausalLM(), TinyModels.ids(m)));
            assertTrue(d < 1e-5, "loaded logits equal the trained ones: " + d);
        }
    }
}
