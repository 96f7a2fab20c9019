package io.peft4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** GSM8K JSONL ({@code question}, {@code answer}) as prompt/completion examples with the prompt masked. */
final class Gsm8k {
    private Gsm8k() {
    }

    static String prompt(String question) {
        return "Question: " + question + "\nAnswer:";
    }

    static List<JsonNode> read(Path file, int n) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (out.size() == n) {
                break;
            }
            if (!line.isBlank()) {
                out.add(Json.MAPPER.readTree(line));
            }
        }
        return out;
    }

    /** prompt ids ++ " answer" ids ++ EOS, truncated to {@code maxLen}; labels mask the prompt. */
    static List<Example> examples(List<JsonNode> records, Tokenizer tok, int maxLen) {
        List<Example> out = new ArrayList<>();
        for (JsonNode r : records) {
            int[] p = tok.encode(prompt(r.get("question").asText()), true);
            int[] a = tok.encode(" " + r.get("answer").asText(), false);
            int[] ids = new int[Math.min(maxLen, p.length + a.length + 1)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i < p.length ? p[i] : i - p.length < a.length ? a[i - p.length] : tok.eosTokenId();
            }
            int[] labels = ids.clone();
            Arrays.fill(labels, 0, Math.min(p.length, labels.length), Example.IGNORE);
            out.add(new Example(ids, labels));
        }
        return out;
    }
}
