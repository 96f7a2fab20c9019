package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.ReferenceScripts;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingBatch;
import io.peft4j.core.train.TrainingObjective;
import io.peft4j.core.train.preference.PreferenceConfig;
import io.peft4j.core.train.preference.PreferenceLossType;
import io.peft4j.core.train.preference.PreferenceObjective;
import io.peft4j.core.train.preference.PreferencePair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * peft4j's DPO (sigmoid), IPO, hinge and ORPO losses, metrics and adapter-weight gradients against trl's
 * DPOTrainer / ORPOTrainer ({@code scripts/interop/dpo_reference.py}) on the real SmolLM2 GGUF, a LoRA adapter saved
 * by peft4j and loaded by PEFT, and one batch of three pairs. (That DPO training learns on the real model is
 * {@code PreferenceTuningIT}'s proof, in the examples module.)
 */
class PreferenceInteropIT {
    static final double BETA = 0.1;
    static final String[][] PAIRS = {
        {"What is 2 + 3?", " 5", " 6 or maybe 7"},
        {"The capital of France is", " Paris.", " Berlin, I think."},
        {"Water freezes at", " 0 degrees Celsius.", " 50 degrees."},
    };
    @TempDir
    Path tmp;

    static List<PreferencePair> pairs(Tokenizer tok) {
        List<PreferencePair> out = new ArrayList<>();
        for (String[] p : PAIRS) {
            out.add(new PreferencePair(row(tok.encode(p[0], false), tok.encode(p[1], false)),
                    row(tok.encode(p[0], false), tok.encode(p[2], false))));
        }
        return out;
    }

    static Example row(int[] prompt, int[] answer) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + answer.length);
        System.arraycopy(answer, 0, ids, prompt.length, answer.length);
        int[] labels = ids.clone();
        Arrays.fill(labels, 0, prompt.length, Example.IGNORE);
        return new Example(ids, labels);
    }

    static String python(Path adapter, Path pairs, Path gradsDir) throws Exception {
        return ReferenceScripts.run("dpo_reference.py", adapter.toString(), pairs.toString(), Double.toString(BETA),
                gradsDir.toString());
    }

    /**
     * One backward of {@code objective} over all pairs as one micro-batch (the Trainer's own path: begin, batch,
     * lossOf, {@link PeftModel#backward}), nothing stepped: the gradient of every adapter weight under the key PEFT
     * saves it with. Gradients are zeroed again after reading.
     */
    static Map<String, float[]> gradients(PeftModel peft, TrainingObjective objective, List<Example> rows, int padId,
                                          NDManager m) {
        Map<String, float[]> out = new java.util.TreeMap<>();
        try (NDScope scope = new NDScope()) {
            TrainingObjective.Step step = objective.begin(peft, List.of(rows), padId, m);
            TrainingBatch b = step.batch(0);
            peft.backward(b.inputIdsArray(m), b.attentionMaskArray(m), b.positionIdsArray(m), step.lossOf(0), false,
                    0L);
            Adapter adapter = peft.adapter("default");
            adapter.stateDict().forEach((key, weight) -> {
                NDArray g = weight.getGradient();
                out.put(adapter.savedKeyPrefix() + key, g.toFloatArray());
                g.muli(0);
            });
        }
        return out;
    }

    /**
     * Element-wise: |ours − trl's| ≤ 1e-4 · max(1, max |g|) for every adapter weight's gradient, and the same keys
     * on both sides; returns the largest difference and the largest gradient seen.
     */
    static double[] compareGradients(String what, Map<String, float[]> ours, Path trlFile) throws Exception {
        double worst = 0;
        double largest = 0;
        try (SafetensorsReader r = SafetensorsReader.open(trlFile)) {
            assertEquals(new java.util.TreeSet<>(r.names()), ours.keySet(), what + ": gradient keys");
            for (String key : r.names()) {
                float[] want = r.readFloats(key);
                float[] got = ours.get(key);
                assertEquals(want.length, got.length, what + " " + key);
                for (int i = 0; i < want.length; i++) {
                    worst = Math.max(worst, Math.abs(want[i] - got[i]));
                    largest = Math.max(largest, Math.abs(want[i]));
                }
            }
        }
        assertTrue(largest > 0, what + ": trl's gradients are all zero, nothing was compared");
        assertTrue(worst <= 1e-4 * Math.max(1, largest), what + ": gradients differ by up to " + worst
                + " (largest " + largest + ")");
        return new double[] {worst, largest};
    }

    @Test
    void lossesAndMetrics_matchTrl() throws Exception {
        Path adapter = tmp.resolve("adapter");
        Path pairsFile = tmp.resolve("pairs.json");
        Path gradsDir = Files.createDirectories(tmp.resolve("trl-grads"));
        Map<String, EvalMetrics> ours = new java.util.LinkedHashMap<>();
        Map<String, Map<String, float[]>> ourGrads = new java.util.LinkedHashMap<>();
        try (NDManager m = Peft4j.newManager(); Checkpoint ckpt = Checkpoints.open(TestResources.testModel());
             LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), m);
             PeftModel peft = PeftModel.wrap(model)) {
            List<PreferencePair> pairs = pairs(ckpt.tokenizer());
            ArrayNode json = Json.MAPPER.createArrayNode();
            for (PreferencePair p : pairs) {
                int promptLen = p.chosen().inputIds().length - (int) Arrays.stream(p.chosen().labels())
                        .filter(l -> l != Example.IGNORE).count();
                ObjectNode o = json.addObject();
                o.putPOJO("prompt_ids", Arrays.copyOf(p.chosen().inputIds(), promptLen));
                o.putPOJO("chosen_ids", Arrays.copyOfRange(p.chosen().inputIds(), promptLen, p.chosen().inputIds().length));
                o.putPOJO("rejected_ids", Arrays.copyOfRange(p.rejected().inputIds(), promptLen,
                        p.rejected().inputIds().length));
            }
            Files.writeString(pairsFile, Json.MAPPER.writeValueAsString(json));
            // a LoRA whose B is non-zero: two SFT steps on the chosen rows, then saved for PEFT
            peft.addAdapter("default", LoraConfig.builder().optR(8).optLoraAlpha(16)
                    .optTargetModules(TargetModules.of("q_proj", "v_proj")).build(), 7L);
            List<Example> sft = pairs.stream().map(PreferencePair::chosen).toList();
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(2).optBatchSize(3)
                    .optLearningRate(1e-2).build())) {
                t.train(sft, List.of());
            }
            peft.save(adapter);
            for (PreferenceLossType type : PreferenceLossType.values()) {
                PreferenceObjective o = PreferenceObjective.of(PreferenceConfig.builder().setLossType(type)
                        .optBeta(BETA).build());
                int padId = Math.max(0, ckpt.tokenizer().padTokenId());
                try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(1).optBatchSize(3)
                        .optPadTokenId(padId).build(), o)) {
                    ours.put(type.trlName(), t.evaluate(PreferencePair.rows(pairs)));
                }
                ourGrads.put(type.trlName(), gradients(peft, o, PreferencePair.rows(pairs), padId, m));
            }
        }
        JsonNode trl = Json.MAPPER.readTree(python(adapter, pairsFile, gradsDir));
        for (Map.Entry<String, Map<String, float[]>> e : ourGrads.entrySet()) {
            double[] d = compareGradients(e.getKey(), e.getValue(), gradsDir.resolve(e.getKey() + ".safetensors"));
            System.err.printf("%s gradients of %d adapter weights: max |peft4j - trl| %.3g, largest %.3g%n",
                    e.getKey(), e.getValue().size(), d[0], d[1]);
        }
        for (Map.Entry<String, EvalMetrics> e : ours.entrySet()) {
            JsonNode want = trl.get(e.getKey());
            compare(e.getKey() + " loss", want.get("loss").asDouble(), e.getValue().loss());
            for (Map.Entry<String, Double> metric : e.getValue().metrics().entrySet()) {
                JsonNode w = want.get(metric.getKey());
                if (w != null) {
                    compare(e.getKey() + " " + metric.getKey(), w.asDouble(), metric.getValue());
                }
            }
            System.err.println("trl " + trl.get("trl").asText() + " " + e.getKey() + ": ours " + e.getValue().loss()
                    + " " + e.getValue().metrics() + " | trl " + want);
        }
    }

    static void compare(String what, double want, double got) {
        double tol = 1e-4 * Math.max(1, Math.abs(want));
        assertTrue(Math.abs(want - got) <= tol, what + ": trl " + want + ", peft4j " + got);
    }
}
