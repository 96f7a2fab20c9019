package io.peft4j.cli;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.CrossEntropyObjective;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.TrainingListener;
import io.peft4j.core.train.TrainingObjective;
import io.peft4j.core.train.preference.PreferenceConfig;
import io.peft4j.core.train.preference.PreferenceLossType;
import io.peft4j.core.train.preference.PreferenceObjective;
import io.peft4j.core.train.preference.PreferencePair;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.PreferenceDataset;
import io.peft4j.datasets.PreferenceEncoder;
import io.peft4j.datasets.PreferenceReader;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code finetune}'s objective options: {@code --objective sft|dpo|ipo|hinge|orpo} with trl's {@code beta},
 * {@code label_smoothing}, {@code precompute_ref_log_probs} and {@code max_prompt_length}. Mix in with
 * {@code @Mixin PreferenceOptions preference;}.
 *
 * <pre>{@code
 * List<Example> rows = preference.isPreference() ? preference.rows(file, ckpt, template, maxLen, out) : sftRows;
 * Trainer t = new Trainer(peft, cfg, preference.objective());
 * }</pre>
 */
final class PreferenceOptions {
    @Option(names = "--objective", defaultValue = "sft", description = "sft (default), or preference tuning on "
            + "prompt/chosen/rejected records: dpo (trl loss_type sigmoid), ipo, hinge or orpo.")
    String objective;

    @Option(names = "--beta", defaultValue = "0.1", description = "Preference beta (ORPO's lambda), default ${DEFAULT-VALUE}.")
    double beta;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "Conservative-DPO label smoothing in [0, 0.5).")
    double labelSmoothing;

    @Option(names = "--precompute-ref-log-probs", description = "Compute the reference log-probs of all training "
            + "pairs once before training.")
    boolean precompute;

    @Option(names = "--max-prompt-length", defaultValue = "0", description = "Preference: keep the last N prompt "
            + "tokens (0: no limit); --max-seq-len then bounds prompt + answer.")
    int maxPromptLength;

    @Option(names = "--strict", description = "Preference: refuse pairs whose chosen equals rejected or whose answer "
            + "is empty, instead of skipping them.")
    boolean strict;

    private PreferenceObjective built;
    private Map<String, Double> lastStep = Map.of();

    boolean isPreference() {
        return !objective.toLowerCase(Locale.ROOT).equals("sft");
    }

    /** The objective; bad settings throw IllegalArgumentException naming the option. */
    TrainingObjective objective() {
        if (!isPreference()) {
            return CrossEntropyObjective.INSTANCE;
        }
        if (built == null) {
            PreferenceLossType type;
            try {
                type = PreferenceLossType.parse(objective);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--objective: " + e.getMessage().replace("preference loss",
                        "objective") + " or sft");
            }
            built = PreferenceObjective.of(PreferenceConfig.builder().setLossType(type).optBeta(beta)
                    .optLabelSmoothing(labelSmoothing).optPrecomputeRefLogProbs(precompute).build());
        }
        return built;
    }

    /** Trainer rows (chosen, rejected, ...) of a preference file. */
    List<Example> rows(Path file, Checkpoint ckpt, String explicitTemplate, String resolvedTemplate, int maxLength,
                       JsonOption out) throws Exception {
        PreferenceDataset d = PreferenceReader.builder().setPath(file).optStrict(strict).build().readAll();
        Tokenizer tok = ckpt.tokenizer();
        boolean conversational = d.records().stream().anyMatch(r -> r.conversational());
        PreferenceEncoder.Builder b = PreferenceEncoder.builder().setTokenizer(tok).optMaxLength(maxLength)
                .optMaxPromptLength(maxPromptLength);
        if (explicitTemplate != null || conversational) {
            b.optTemplate(ChatTemplate.resolve(resolvedTemplate, ckpt.chatTemplate(), tok));
        }
        PreferenceEncoder.Result r = b.build().encodeAll(d.records());
        d.skipped().stream().limit(5).forEach(e -> out.status("finetune: skipped " + e.getMessage()));
        if (r.pairs().isEmpty()) {
            throw new IllegalArgumentException(file + ": no usable preference pairs (" + d.skipped().size()
                    + " skipped, " + r.stats().dropped() + " dropped by --max-seq-len)");
        }
        out.status(String.format(Locale.ROOT, "finetune: %d pairs from %s (%d skipped, %d prompt-truncated, "
                + "%d answer-truncated, %d dropped)", r.pairs().size(), file, d.skipped().size(),
                r.stats().promptTruncated(), r.stats().answerTruncated(), r.stats().dropped()));
        return PreferencePair.rows(r.pairs());
    }

    /** Remembers the last step's metrics (the JSON falls back to them without eval data). */
    TrainingListener recorder() {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                lastStep = m.metrics();
            }
        };
    }

    /** {@code rewards_accuracies} and {@code rewards_margins} from the eval metrics when present, else the last step. */
    void putRewards(Map<String, Object> json, Map<String, Double> evalMetrics) {
        Map<String, Double> src = evalMetrics != null && !evalMetrics.isEmpty() ? evalMetrics : lastStep;
        json.put("rewards_accuracies", round(src.get("rewards/accuracies")));
        json.put("rewards_margins", round(src.get("rewards/margins")));
    }

    private static Double round(Double v) {
        return v == null ? null : Math.round(v * 10000) / 10000.0;
    }
}
