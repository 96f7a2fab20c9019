package io.peft4j.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.testing.ReferenceScripts;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Soft prompts really learn, as well as PEFT's, on the real SmolLM2: a held-out split of GSM8K reduced to an
 * instruction task ("Question: ...\nAnswer:" → the final number and EOS; prompt tokens masked). Prompt tuning (20
 * virtual tokens, TEXT init) and prefix tuning (20 virtual tokens) each train {@link #STEPS} steps of batch
 * {@link #BATCH} on {@link #RECORDS} training records; the held-out loss on the response tokens of {@link #RECORDS}
 * test records must fall by at least 25 % from the base model's, and end no worse than 1.2× what PEFT reaches
 * ({@code scripts/interop/prompt_learning_reference.py}) on the same token ids, init text, learning rate, batch
 * order, schedule and clipping. The numbers are also written to {@code target/prompt-learning-proof.json}.
 *
 * <p>Cost: one load of the real model here (both methods train on it in turn) and one Python process that loads the
 * GGUF once and trains both methods on deep copies of it. The two sides run one after the other on purpose: run side
 * by side on 2 cores, both libtorch thread pools spin against each other and the class took 242 s instead of 132 s.
 */
class PromptLearningProofIT {
    static final int VIRTUAL_TOKENS = 20;
    static final String INIT_TEXT = "Read the math word problem and reply with only the final number.";
    static final int RECORDS = 12;
    static final int STEPS = 12;
    static final int BATCH = 4;
    /** Per method: prompt tuning's rows start from token embeddings, prefix tuning's from N(0, 1) keys and values. */
    static final Map<String, Double> LR = Map.of("PROMPT_TUNING", 3e-2, "PREFIX_TUNING", 1e-1);

    @TempDir
    Path tmp;

    @Test
    void promptAndPrefixTuning_heldOutLossFalls25Percent_andEndsWithin1_2xOfPeft() throws Exception {
        long start = System.nanoTime();
        Path gsm8k = TestResources.shared("datasets/gsm8k");
        Map<String, double[]> ours = new LinkedHashMap<>();   // method -> {base, init, trained}
        List<List<Example>> data = new ArrayList<>();
        int[] pad = new int[1];
        ReferenceScripts.withRealModel(new long[] {1}, (model, peft, ids, ckpt) -> {
            Tokenizer tok = ckpt.tokenizer();
            List<Example> train = examples(gsm8k.resolve("train.jsonl"), tok);
            List<Example> heldOut = examples(gsm8k.resolve("test.jsonl"), tok);
            data.add(train);
            data.add(heldOut);
            pad[0] = tok.eosTokenId();
            double base;
            try (Trainer t = new Trainer(peft, config(1e-2, pad[0]))) {
                base = t.evaluate(heldOut).loss();
            }
            for (String method : LR.keySet().stream().sorted().toList()) {
                peft.addAdapter(method, adapter(method, ckpt), 0L);
                double[] r = {base, 0, 0};
                try (Trainer t = new Trainer(peft, config(LR.get(method), pad[0]))) {
                    r[1] = t.evaluate(heldOut).loss();
                    t.train(train, null);
                    r[2] = t.evaluate(heldOut).loss();
                }
                peft.deleteAdapter(method);
                ours.put(method, r);
                System.err.printf("[%.1f s] peft4j %s trained%n", (System.nanoTime() - start) / 1e9, method);
            }
        });
        JsonNode peft = Json.MAPPER.readTree(ReferenceScripts.run("prompt_learning_reference.py", "train",
                spec(pad[0], data.get(0), data.get(1)).toString()));
        System.err.printf("[%.1f s] PEFT done; its seconds: %s%n", (System.nanoTime() - start) / 1e9,
                peft.findValues("seconds"));
        ObjectNode report = Json.MAPPER.createObjectNode();
        StringBuilder failures = new StringBuilder();
        ours.forEach((method, r) -> {
            double theirs = peft.get(method).get("held_out_after").asDouble();
            String line = String.format("%s held-out loss: base %.4f, init %.4f -> trained %.4f (%.1f%% below base); "
                            + "PEFT init %.4f -> trained %.4f; ratio %.3f", method, r[0], r[1], r[2],
                    100 * (1 - r[2] / r[0]), peft.get(method).get("held_out_before").asDouble(), theirs, r[2] / theirs);
            System.err.println(line);
            report.put(method, line);
            if (r[2] > 0.75 * r[0]) {
                failures.append(method).append(": held-out loss fell only from ").append(r[0]).append(" to ")
                        .append(r[2]).append("; ");
            }
            if (r[2] > 1.2 * theirs) {
                failures.append(method).append(": ").append(r[2]).append(" vs PEFT ").append(theirs).append("; ");
            }
        });
        Files.writeString(Path.of("target", "prompt-learning-proof.json"), report.toPrettyString());
        assertTrue(failures.length() == 0, failures.toString());
    }

    private static TrainerConfig config(double lr, int pad) {
        return TrainerConfig.builder().optMaxSteps(STEPS).optBatchSize(BATCH).optLearningRate(lr).optShuffle(false)
                .optPadTokenId(pad).build();
    }

    private static AdapterConfig adapter(String method, Checkpoint ckpt) {
        if (method.equals("PROMPT_TUNING")) {
            return PromptTuningConfig.builder().setNumVirtualTokens(VIRTUAL_TOKENS)
                    .optPromptTuningInitText(INIT_TEXT, ckpt.tokenizer())
                    .optTokenizerNameOrPath(TestResources.testModel().getParent().toString()).build();
        }
        return PrefixTuningConfig.builder().setNumVirtualTokens(VIRTUAL_TOKENS).build();
    }

    /** The first {@link #RECORDS} records: prompt ids ++ " N" ++ EOS, the prompt masked. */
    static List<Example> examples(Path file, Tokenizer tok) throws Exception {
        List<Example> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (out.size() == RECORDS) {
                break;
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode r = Json.MAPPER.readTree(line);
            String answer = r.get("answer").asText();
            String number = answer.substring(answer.lastIndexOf("####") + 4).strip();
            int[] p = tok.encode("Question: " + r.get("question").asText() + "\nAnswer:", true);
            int[] a = tok.encode(" " + number, false);
            int[] ids = Arrays.copyOf(p, p.length + a.length + 1);
            System.arraycopy(a, 0, ids, p.length, a.length);
            ids[ids.length - 1] = tok.eosTokenId();
            int[] labels = ids.clone();
            Arrays.fill(labels, 0, p.length, Example.IGNORE);
            out.add(new Example(ids, labels));
        }
        return out;
    }

    private Path spec(int pad, List<Example> train, List<Example> eval) throws Exception {
        ObjectNode s = Json.MAPPER.createObjectNode();
        ArrayNode methods = s.putArray("methods");
        LR.keySet().stream().sorted().forEach(m -> methods.addObject().put("method", m).put("lr", LR.get(m)));
        s.put("num_virtual_tokens", VIRTUAL_TOKENS).put("init_text", INIT_TEXT).put("batch_size", BATCH)
                .put("steps", STEPS).put("pad_id", pad);
        Function<List<Example>, ArrayNode> rows = list -> {
            ArrayNode a = Json.MAPPER.createArrayNode();
            for (Example e : list) {
                ObjectNode row = a.addObject();
                Arrays.stream(e.inputIds()).forEach(row.putArray("ids")::add);
                Arrays.stream(e.labels()).forEach(row.putArray("labels")::add);
            }
            return a;
        };
        s.set("train", rows.apply(train));
        s.set("eval", rows.apply(eval));
        Path file = tmp.resolve("spec.json");
        Json.MAPPER.writeValue(file.toFile(), s);
        return file;
    }
}
