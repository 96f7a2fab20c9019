package io.peft4j.datasets;

import java.util.List;

/**
 * Training examples encoded from a dataset, in input order (dropped ones left out), with their statistics.
 *
 * <pre>{@code
 * EncodedDataset enc = encoder.encodeAll(dataset.records());
 * List<TrainingExample> rows = Packing.pack(enc.examples(), 1024, tokenizer.padTokenId());
 * long cut = enc.stats().truncated();
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param examples the kept (whole or truncated) examples
 * @param stats    counts, lengths and trained share
 *
 * @since 0.1.0
 */
public record EncodedDataset(List<TrainingExample> examples, EncodingStats stats) {
    public EncodedDataset {
        examples = List.copyOf(examples);
    }

    /** Every example as the trainer takes it (see {@link TrainingExample#forTrainer()}). */
    public List<io.peft4j.core.train.Example> forTrainer() {
        return examples.stream().map(TrainingExample::forTrainer).toList();
    }
}
