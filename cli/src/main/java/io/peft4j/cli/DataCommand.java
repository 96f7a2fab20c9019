package io.peft4j.cli;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.tokenizer.HfTokenizer;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.EncodedDataset;
import io.peft4j.datasets.EncodingStats;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.MaskPreview;
import io.peft4j.datasets.TruncationPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code peft4j data --data FILE [--template NAME|chat] [--model PATH | --tokenizer PATH] [--max-seq-len N]}:
 * reads a dataset, renders and tokenizes it as training would, and reports record counts, token-length
 * percentiles, the share of trained tokens, truncations and the first example with its trained part marked.
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

    @Override
    public Integer call() throws Exception {
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

    private int run(Tokenizer tok, Optional<String> modelTemplate) throws Exception {
        Dataset d = DatasetReader.builder().setPath(dataset.data).optFieldNames(format.fieldNames())
                .optSkipBadRecords(!strict).build().readAll();
        out.status("data: " + d.size() + " " + d.shape() + " records (" + d.badRecords() + " bad) from " + dataset.data);
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
