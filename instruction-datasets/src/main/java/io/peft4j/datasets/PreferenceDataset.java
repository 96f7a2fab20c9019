package io.peft4j.datasets;

import java.nio.file.Path;
import java.util.List;

/**
 * The preference records of one file and the records skipped as bad pairs (chosen equal to rejected, an empty
 * answer), each skip naming its line.
 *
 * <pre>{@code
 * PreferenceDataset d = PreferenceReader.builder().setPath(p).build().readAll();
 * int bad = d.skipped().size();
 * }</pre>
 *
 * @param path    the file read
 * @param records the usable records in file order
 * @param skipped why each skipped record was skipped (file:line, field, problem)
 *
 * @since 0.1.0
 */
public record PreferenceDataset(Path path, List<PreferenceRecord> records, List<DatasetFormatException> skipped) {
    public PreferenceDataset {
        records = List.copyOf(records);
        skipped = List.copyOf(skipped);
    }
}
