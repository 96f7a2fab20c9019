package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.ReferenceScripts;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
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
 * peft4j's DPO (sigmoid), IPO, hinge and ORPO losses and metrics against trl's DPOTrainer / ORPOTrainer
 * ({@code scripts/interop/dpo_reference.py}) on the real SmolLM2 GGUF, a LoRA adapter saved by peft4j and loaded by
 * PEFT, and one batch of three pairs; then a short DPO run on the real model raises the margin.
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

    static String python(Path adapter, Path pairs) throws Exception {
        return ReferenceScripts.run("dpo_reference.py", adapter.toString(), pairs.toString(), Double.toString(BETA));
    }

    @Test
    void lossesAndMetrics_matchTrl() throws Exception {
        Path adapter = tmp.resolve("adapter");
        Path pairsFile = tmp.resolve("pairs.json");
        Map<String, EvalMetrics> ours = new java.util.LinkedHashMap<>();
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
                try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(1).optBatchSize(3)
                        .optPadTokenId(Math.max(0, ckpt.tokenizer().padTokenId())).build(), o)) {
                    ours.put(type.trlName(), t.evaluate(PreferencePair.rows(pairs)));
                }
            }
        }
        JsonNode trl = Json.MAPPER.readTree(python(adapter, pairsFile));
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

    @Test
    void dpoOnTheRealModel_raisesTheMargin() throws Exception {
        try (NDManager m = Peft4j.newManager(); Checkpoint ckpt = Checkpoints.open(TestResources.testModel());
             LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), m);
             PeftModel peft = PeftModel.wrap(model)) {
            List<Example> rows = PreferencePair.rows(pairs(ckpt.tokenizer()));
            peft.addAdapter("default", LoraConfig.builder().optR(8).optLoraAlpha(16)
                    .optTargetModules(TargetModules.ALL_LINEAR).build(), 7L);
            PreferenceObjective dpo = PreferenceObjective.of(PreferenceConfig.builder().optBeta(BETA)
                    .optPrecomputeRefLogProbs(true).build());
            try (Trainer t = new Trainer(peft, TrainerConfig.builder().optMaxSteps(6).optBatchSize(3)
                    .optLearningRate(2e-3).optPadTokenId(Math.max(0, ckpt.tokenizer().padTokenId())).build(), dpo)) {
                EvalMetrics before = t.evaluate(rows);
                t.train(rows, List.of());
                EvalMetrics after = t.evaluate(rows);
                System.err.printf("real-model DPO: loss %.4f -> %.4f, margin %.4f -> %.4f, accuracy %.2f -> %.2f%n",
                        before.loss(), after.loss(), before.metrics().get("rewards/margins"),
                        after.metrics().get("rewards/margins"), before.metrics().get("rewards/accuracies"),
                        after.metrics().get("rewards/accuracies"));
                assertEquals(0.0, before.metrics().get("rewards/margins"), 1e-4, "a fresh LoRA is the reference");
                assertTrue(after.metrics().get("rewards/margins") > before.metrics().get("rewards/margins") + 0.05,
                        "margin " + after.metrics());
                assertTrue(after.loss() < before.loss());
            }
        }
    }

    static void compare(String what, double want, double got) {
        double tol = 1e-4 * Math.max(1, Math.abs(want));
        assertTrue(Math.abs(want - got) <= tol, what + ": trl " + want + ", peft4j " + got);
    }
}
