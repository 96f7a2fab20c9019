package io.peft4j.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The dataset file and its sequence length, shared by {@code finetune}, {@code data} and {@code eval} with ONE
 * default, so {@code data} previews exactly what {@code finetune} trains on and {@code eval} scores the same
 * lengths. Mix in with {@code @Mixin DatasetOptions dataset;}; {@link TemplateOptions} adds how records are read
 * and rendered.
 *
 * <pre>{@code
 * ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t)
 *         .optMaxSeqLen(dataset.maxSeqLen).build();
 * }</pre>
 */
final class DatasetOptions {
    @Option(names = "--data", required = true, description = "Dataset file: JSON / JSONL (.gz) records (alpaca, "
            + "prompt/completion, messages, ...); eval also reads plain text.")
    Path data;

    @Option(names = {"--max-seq-len", "--max-length"}, defaultValue = "512", description = "Longest sequence in "
            + "tokens: longer examples are truncated (finetune, data, eval on instruction records); eval "
            + "scores plain text in windows of this length "
            + "(default ${DEFAULT-VALUE}).")
    int maxSeqLen;
}
