package io.peft4j.cli;

import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.DatasetFormatException;
import io.peft4j.datasets.PreferenceDataset;
import io.peft4j.datasets.PreferenceEncoder;
import io.peft4j.datasets.PreferenceReader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code peft4j data} on a preference file (prompt/chosen/rejected): pairs, skipped pairs with their lines, token
 * lengths, trained share and what truncation did, with the same keys as for instruction data plus
 * {@code prompt_truncated}, {@code answer_truncated} and {@code format: preference}.
 *
 * <pre>{@code
 * return new PreferenceDataReport(out).run(file, tok, template, modelTemplate, maxLen, maxPromptLen, strict);
 * }</pre>
 */
final class PreferenceDataReport {
    private final JsonOption out;

    PreferenceDataReport(JsonOption out) {
        this.out = out;
    }

    int run(Path file, Tokenizer tok, String explicitTemplate, Optional<String> modelTemplate, int maxLength,
            int maxPromptLength, boolean strict) throws Exception {
        PreferenceDataset d = PreferenceReader.builder().setPath(file).optStrict(strict).build().readAll();
        boolean conversational = d.records().stream().anyMatch(r -> r.conversational());
        PreferenceEncoder.Builder b = PreferenceEncoder.builder().setTokenizer(tok).optMaxLength(maxLength)
                .optMaxPromptLength(maxPromptLength);
        String template = "none";
        if (explicitTemplate != null || conversational) {
            String name = explicitTemplate != null ? explicitTemplate
                    : modelTemplate.or(tok::chatTemplate).isPresent() ? "chat" : "chatml";
            b.optTemplate(ChatTemplate.resolve(name, modelTemplate, tok));
            template = name;
        }
        PreferenceEncoder.Result r = b.build().encodeAll(d.records());
        out.status("data: " + d.records().size() + " preference pairs (" + d.skipped().size() + " skipped) from "
                + file);
        List<Map<String, Object>> bad = new ArrayList<>();
        for (DatasetFormatException e : d.skipped()) {
            if (bad.size() < 5) {
                out.status("  skipped line " + e.line() + ": " + e.problem());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("line", e.line());
            m.put("record", e.recordIndex());
            m.put("reason", e.problem());
            bad.add(m);
        }
        PreferenceEncoder.Stats s = r.stats();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("records", s.records());
        j.put("bad_records", d.skipped().size());
        j.put("bad_lines", bad);
        j.put("format", "preference");
        j.put("conversational", conversational);
        j.put("template", template);
        j.put("pairs", r.pairs().size());
        j.put("tokens_p50", s.lengthP50());
        j.put("tokens_p95", s.lengthP95());
        j.put("trained_token_share", Math.round(s.trainedTokenShare() * 10000) / 10000.0);
        j.put("truncated", s.truncated());
        j.put("prompt_truncated", s.promptTruncated());
        j.put("answer_truncated", s.answerTruncated());
        j.put("dropped", s.dropped());
        j.put("max_seq_len", maxLength);
        j.put("max_prompt_length", maxPromptLength);
        out.print(j);
        return 0;
    }
}
