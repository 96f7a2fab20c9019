package io.peft4j.datasets;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A dataset read into memory: its records in file order, the detected shape and how many bad records were skipped.
 *
 * <pre>{@code
 * Dataset d = DatasetReader.builder().setPath(p).build().readAll();
 * Split<Conversation> s = Split.of(d.records(), 0.1, 42);
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param path       the file read
 * @param shape      the record shape (detected or configured)
 * @param records    the good records
 * @param badRecords records skipped as malformed (0 unless skipping was enabled)
 *
 * @since 0.1.0
 */
public record Dataset(Path path, RecordShape shape, List<Conversation> records, long badRecords) {
    public Dataset {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(shape, "shape");
        records = List.copyOf(records);
        if (badRecords < 0) {
            throw new IllegalArgumentException("badRecords must be >= 0, was " + badRecords);
        }
    }

    public int size() {
        return records.size();
    }
}
