package io.peft4j.datasets;

import io.peft4j.datasets.internal.RawSources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads an instruction dataset file (JSON array, JSON Lines, either optionally gzip-compressed) into
 * {@link Conversation}s. The {@link RecordShape} is detected from the first record unless set; field names can be
 * remapped. {@link #open()} streams in constant memory; {@link #readAll()} collects.
 *
 * <pre>{@code
 * Dataset d = DatasetReader.builder().setPath(Path.of("alpaca_5000.json")).optSkipBadRecords(true).build().readAll();
 * Conversation first = d.records().get(0);
 * int bad = d.badRecords();
 * }</pre>
 * Immutable; each {@link #open()} gives an independent, single-threaded {@link RecordStream}.
 *
 * @since 0.1.0
 */
public final class DatasetReader {
    private final Path path;
    private final RecordShape shape;
    private final FieldNames names;
    private final boolean skipBadRecords;

    private DatasetReader(Builder b) {
        this.path = b.path;
        this.shape = b.shape;
        this.names = b.names;
        this.skipBadRecords = b.skipBadRecords;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path path() {
        return path;
    }

    /** Streams the records; the caller closes the stream. */
    public RecordStream open() throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "dataset file not found");
        }
        return new RecordStream(RawSources.open(path), path.toString(), shape, names, skipBadRecords);
    }

    /**
     * All records in memory. Throws when the file has no records, or when every record is bad (the message then
     * carries the first record's error).
     */
    public Dataset readAll() throws DatasetFormatException, IOException {
        List<Conversation> out = new ArrayList<>();
        try (RecordStream s = open()) {
            for (Conversation c = s.read(); c != null; c = s.read()) {
                out.add(c);
            }
            return new Dataset(path, s.shape(), out, s.badRecords());
        }
    }

    /** Builder: {@code setPath} is required; shape (auto), field names and skipping bad records are optional. */
    public static final class Builder {
        private Path path;
        private RecordShape shape;
        private FieldNames names = FieldNames.DEFAULT;
        private boolean skipBadRecords;

        private Builder() {
        }

        public Builder setPath(Path path) {
            this.path = Objects.requireNonNull(path, "path");
            return this;
        }

        /** Fixes the shape instead of detecting it from the first record. */
        public Builder optShape(RecordShape shape) {
            this.shape = Objects.requireNonNull(shape, "shape");
            return this;
        }

        public Builder optFieldNames(FieldNames names) {
            this.names = Objects.requireNonNull(names, "names");
            return this;
        }

        /** Skip malformed records (counted in {@code badRecords}) instead of failing on the first one. */
        public Builder optSkipBadRecords(boolean skip) {
            this.skipBadRecords = skip;
            return this;
        }

        public DatasetReader build() {
            if (path == null) {
                throw new IllegalArgumentException("DatasetReader needs a path (setPath)");
            }
            return new DatasetReader(this);
        }
    }
}
