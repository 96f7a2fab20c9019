package io.peft4j.datasets;

import io.peft4j.core.train.Example;

import java.util.List;

/**
 * Training examples encoded from a dataset, in input order (dropped ones left out), with their statistics.
 *
 * <pre>{@code
 * EncodedDataset enc = encoder.encodeAll(dataset.records());
 * List<TrainingExample> rows = Packing.pack(enc.examples(), 1024, tokenizer.padTokenId());
 * List<Example> packed = enc.packedForTrainer(1024, tokenizer.padTokenId());
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
    public List<Example> forTrainer() {
        return examples.stream().map(TrainingExample::forTrainer).toList();
    }

    /**
     * The examples {@link Packing#pack packed} into rows of {@code rowLength} tokens, as the trainer takes them:
     * fewer, fuller rows, no attention or loss across the examples of a row.
     */
    public List<Example> packedForTrainer(int rowLength, int padId) {
        return Packing.pack(examples, rowLength, padId).stream().map(TrainingExample::forTrainer).toList();
    }
}
