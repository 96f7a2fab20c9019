package io.peft4j.cli;

import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.model.CausalLM;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.core.generate.EvalResult;
import io.peft4j.core.generate.PerplexityEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j eval --model PATH --data FILE}: loss and perplexity. Plain text (a text file, or JSONL with a
 * {@code text} field) is scored token-weighted over sliding windows; instruction records (any shape
 * {@code finetune} reads, or any file when {@code --template}, {@code --generate} or {@code --few-shot} is given)
 * are scored over their response tokens exactly as the Trainer's eval does ({@link InstructionEval}), and with
 * {@code --generate} greedy answers are compared with the references (exact match, ROUGE-L F1).
 */
@Command(name = "eval", description = "Loss and perplexity on plain text, or on the response tokens of instruction "
        + "records (with --generate: exact match and ROUGE-L of greedy answers).")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Mixin
    ModelOptions model;

    @Mixin
    DatasetOptions dataset;

    @Mixin
    TemplateOptions format;

    @Option(names = "--stride", description = "Plain text: window step in tokens (default: half the window).")
    Integer stride;

    @Option(names = "--generate", description = "Instruction data: also answer each record greedily and score the "
            + "answers against the references (exact match after trimming, ROUGE-L F1 on whitespace tokens).")
    boolean generate;

    @Option(names = "--few-shot", defaultValue = "0", description = "Instruction data: prepend K solved records "
            + "to every prompt as earlier turns (in-context baseline). They come from --few-shot-data, else from the "
            + "first K records of --data, which are then not scored.")
    int fewShot;

    @Option(names = "--few-shot-data", description = "Where the --few-shot records come from (its first K).")
    Path fewShotData;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "--generate: longest answer in tokens "
            + "(default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--batch-size", defaultValue = "4", description = "Instruction data: records per forward pass "
            + "(default ${DEFAULT-VALUE}).")
    int batchSize;

    /** Mismatched answers shown (stderr, and {@code examples} under {@code --json}). */
    private static final int SHOWN_MISMATCHES = 5;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        checkOptions();
        EvalRecords records = EvalRecords.read(dataset.data, format.fieldNames(), fewShot, fewShotData,
                format.template != null || generate || fewShot > 0, generate);   // bad data fails before the model loads
        List<String> texts = records == null ? PerplexityEvaluator.readTexts(dataset.data) : null;
        try (Peft4jModel loaded = model.load(out, "eval")) {
            Checkpoint ckpt = loaded.checkpoint();
            if (records != null) {
                Map<String, Object> result = instructionEval(records, loaded.peft(), loaded.asCausalLM(), ckpt);
                checkFinite((Double) result.get("loss"), (Long) result.get("tokens"), model.adapter != null);
                result.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
                out.print(result);
                return 0;
            }
            int window = Math.min(dataset.maxSeqLen, ckpt.config().maxPositions() > 0 ? ckpt.config().maxPositions()
                    : dataset.maxSeqLen);
            int step = stride == null ? Math.max(1, window / 2) : stride;
            out.status("eval: window " + window + ", stride " + step + " over " + dataset.data);
            EvalResult r = new PerplexityEvaluator(loaded.asCausalLM(), ckpt.tokenizer()).evaluateTexts(texts, window, step);
            checkFinite(r.loss(), r.tokens(), model.adapter != null);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("loss", r.loss());
            result.put("perplexity", r.perplexity());
            result.put("tokens", r.tokens());
            result.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            out.print(result);
        }
        return 0;
    }

    /** Scores instruction records: response-token loss, and with {@code --generate} the greedy answers. */
    private Map<String, Object> instructionEval(EvalRecords records, PeftModel peft, CausalLM adapted, Checkpoint ckpt)
            throws PeftException {
        String name = format.template != null ? format.template : ckpt.chatTemplate().isPresent() ? "chat" : "alpaca";
        ChatTemplate template = ChatTemplate.resolve(name, ckpt.chatTemplate(), ckpt.tokenizer());
        out.status("eval: " + records.scored().size() + " " + records.shape().name().toLowerCase(Locale.ROOT)
                + " records from " + dataset.data + " (template " + name + ", " + records.shots().size()
                + "-shot)");
        InstructionEval eval = new InstructionEval(template, ckpt.tokenizer(), dataset.maxSeqLen, batchSize,
                records.shots());
        Map<String, Object> result = eval.loss(peft, records.scored());
        if (generate) {
            List<String> stops = "alpaca".equals(name) ? List.of("\n\n### Instruction:") : List.of();
            GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(maxNewTokens)
                    .optStopStrings(stops).build();
            Map<String, Object> scores = eval.generate(adapted, records.scored(), greedy, SHOWN_MISMATCHES,
                    out::status);
            if (!out.json) {
                for (Object o : (List<?>) scores.get("examples")) {
                    Map<?, ?> m = (Map<?, ?>) o;
                    out.status("  mismatch, record " + m.get("record") + ": expected " + quote(m.get("reference"))
                            + ", got " + quote(m.get("answer")) + " (rouge_l " + m.get("rouge_l") + ")");
                }
                scores.remove("examples");
            }
            result.putAll(scores);
        }
        return result;
    }

    private static String quote(Object text) {
        String s = String.valueOf(text).replace("\n", "\\n");
        return "\"" + (s.length() > 120 ? s.substring(0, 117) + "..." : s) + "\"";
    }

    /** Refuses (exit 2) a result with no scored token or a non-finite loss, naming the data and the model. */
    private void checkFinite(double loss, long tokens, boolean hasAdapter) {
        if (tokens == 0 || !Double.isFinite(loss)) {
            throw new IllegalArgumentException("eval: the loss over " + tokens + " tokens of " + dataset.data
                    + " is " + loss + (tokens == 0 ? " (no tokens to score)" : ": the model"
                    + (hasAdapter ? " or the adapter " + model.adapter : " " + model.model)
                    + " produces non-finite logits (NaN/Inf weights?)"));
        }
    }

    /** Option values and paths are checked before the model loads, naming the flag. */
    private void checkOptions() {
        if (dataset.maxSeqLen < 2) {
            throw new IllegalArgumentException("--max-length must be >= 2, got " + dataset.maxSeqLen
                    + " (see peft4j eval --help)");
        }
        if (stride != null && (stride < 1 || stride > dataset.maxSeqLen)) {
            throw new IllegalArgumentException("--stride must be in [1, --max-length " + dataset.maxSeqLen + "], got " + stride
                    + " (see peft4j eval --help)");
        }
        if (Files.isDirectory(dataset.data)) {
            throw new IllegalArgumentException("--data " + dataset.data + " is a directory; give a text file or a .jsonl file");
        }
        if (!Files.exists(dataset.data)) {
            throw new IllegalArgumentException("--data " + dataset.data + ": no such file");
        }
        if (fewShot < 0) {
            throw new IllegalArgumentException("--few-shot must be >= 0, got " + fewShot + " (see peft4j eval --help)");
        }
        if (fewShotData != null && fewShot == 0) {
            throw new IllegalArgumentException("--few-shot-data needs --few-shot K (K >= 1)");
        }
        if (fewShotData != null && !Files.isRegularFile(fewShotData)) {
            throw new IllegalArgumentException("--few-shot-data " + fewShotData + ": no such file");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize + " (see peft4j eval --help)");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens
                    + " (see peft4j eval --help)");
        }
    }
}
