package io.peft4j.cli;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetFormatException;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.EncodedDataset;
import io.peft4j.datasets.EncodingStats;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.MaskPreview;
import io.peft4j.datasets.RecordStream;
import io.peft4j.datasets.TruncationPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code peft4j data --data FILE [--template NAME|chat] [--model PATH | --tokenizer PATH] [--max-seq-len N]}:
 * reads a dataset, renders and tokenizes it as training would, and reports record counts, token-length
 * percentiles, the share of trained tokens, truncations and the first example with its trained part marked.
 * Without {@code --strict} bad records are skipped; the first few are named with line and reason (stderr, and
 * {@code bad_lines} under {@code --json}).
 */
@Command(name = "data", description = "Check an instruction dataset: records, token lengths, trained share, truncation.")
final class DataCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Mixin
    DatasetOptions dataset;

    @Mixin
    TemplateOptions format;

    @Option(names = "--model", description = "A model (.gguf file) whose tokenizer and chat template to use.")
    Path model;

    @Option(names = "--tokenizer", description = "A tokenizer.json (or its folder) when no --model is given.")
    Path tokenizerPath;

    @Option(names = "--truncation", defaultValue = "TRUNCATE_PROMPT_LEFT",
            description = "DROP, TRUNCATE_PROMPT_LEFT (default) or TRUNCATE_RESPONSE_RIGHT.")
    TruncationPolicy truncation;

    @Option(names = "--train-on-inputs", description = "Train on prompt tokens too.")
    boolean trainOnInputs;

    @Option(names = "--strict", description = "Fail on the first bad record instead of skipping and counting.")
    boolean strict;

    @Option(names = "--preference", description = "Read the file as preference pairs (prompt/chosen/rejected); "
            + "detected from the first record when not given.")
    boolean preference;

    @Option(names = "--max-prompt-length", defaultValue = "0", description = "Preference: keep the last N prompt "
            + "tokens (0: no limit).")
    int maxPromptLength;

    /** Bad records named on stderr; {@code bad_lines} in {@code --json} keeps {@value RecordStream#KEPT_BAD_RECORDS}. */
    private static final int SHOWN_BAD_LINES = 5;

    @Override
    public Integer call() throws Exception {
        if (dataset.maxSeqLen < 1) {
            throw new IllegalArgumentException("--max-seq-len must be >= 1, got " + dataset.maxSeqLen + " (see peft4j data --help)");
        }
        if ((model == null) == (tokenizerPath == null)) {
            throw new IllegalArgumentException("give exactly one of --model PATH or --tokenizer PATH");
        }
        if (model != null) {
            try (Checkpoint ckpt = Checkpoints.open(model)) {
                return run(ckpt.tokenizer(), ckpt.chatTemplate());
            }
        }
        try (HfTokenizer tok = HfTokenizer.load(tokenizerPath)) {
            return run(tok, tok.chatTemplate());
        }
    }

    private static String where(DatasetFormatException e) {
        return e.line() > 0 ? "line " + e.line() : "record " + e.recordIndex();
    }

    private int run(Tokenizer tok, Optional<String> modelTemplate) throws Exception {
        if (preference || io.peft4j.datasets.PreferenceReader.isPreferenceFile(dataset.data)) {
            return new PreferenceDataReport(out).run(dataset.data, tok, format.template, modelTemplate,
                    dataset.maxSeqLen, maxPromptLength, strict);
        }
        List<Conversation> records = new ArrayList<>();
        List<DatasetFormatException> badLines;
        Dataset d;
        try (RecordStream s = DatasetReader.builder().setPath(dataset.data).optFieldNames(format.fieldNames()).optSkipBadRecords(!strict).build().open()) {
            for (Conversation c = s.read(); c != null; c = s.read()) {
                records.add(c);
            }
            badLines = s.firstBadRecords();
            d = new Dataset(dataset.data, s.shape(), records, s.badRecords());
        }
        out.status("data: " + d.size() + " " + d.shape() + " records (" + d.badRecords() + " bad) from " + dataset.data);
        for (DatasetFormatException e : badLines.subList(0, Math.min(SHOWN_BAD_LINES, badLines.size()))) {
            out.status("  bad " + where(e) + ": " + e.problem());
        }
        if (d.badRecords() > SHOWN_BAD_LINES) {
            out.status("  ... and " + (d.badRecords() - SHOWN_BAD_LINES) + " more bad records (--strict stops at the first)");
        }
        String name = format.template != null ? format.template : modelTemplate.or(tok::chatTemplate).isPresent() ? "chat" : "alpaca";
        ChatTemplate t = ChatTemplate.resolve(name, modelTemplate, tok);
        EncodedDataset enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t).optMaxSeqLen(dataset.maxSeqLen)
                .optTruncation(truncation).optTrainOnInputs(trainOnInputs).optSkipTemplateErrors(!strict).build()
                .encodeAll(d.records());
        EncodingStats s = enc.stats();
        String first = enc.examples().isEmpty() ? "" : MaskPreview.render(enc.examples().get(0), tok);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("records", d.size());
        r.put("bad_records", d.badRecords());
        List<Map<String, Object>> bad = new ArrayList<>();
        for (DatasetFormatException e : badLines) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("line", e.line());
            b.put("record", e.recordIndex());
            b.put("reason", e.problem());
            bad.add(b);
        }
        r.put("bad_lines", bad);
        r.put("shape", d.shape().name().toLowerCase(java.util.Locale.ROOT));
        r.put("template", t.name().equals("chat") ? "chat" : t.name());
        r.put("tokens_p50", s.lengthP50());
        r.put("tokens_p95", s.lengthP95());
        r.put("tokens_max", s.lengthMax());
        r.put("trained_token_share", Math.round(s.trainedTokenShare() * 10000) / 10000.0);
        r.put("truncated", s.truncated());
        r.put("dropped", s.dropped());
        r.put("template_errors", s.templateErrors());
        r.put("max_seq_len", dataset.maxSeqLen);
        if (out.json) {
            r.put("first_example", first);
        } else {
            System.out.println("first example (trained part between " + MaskPreview.OPEN + " and "
                    + MaskPreview.CLOSE + "):");
            System.out.println(first);
            System.out.println();
        }
        out.print(r);
        return 0;
    }
}
