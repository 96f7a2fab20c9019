package io.peft4j.datasets.internal;

import io.peft4j.datasets.DatasetFormatException;

import java.io.IOException;

/** Records of one file in order; {@link #next()} returns null at the end. Not thread-safe. */
public interface RawRecordSource extends AutoCloseable {

    /** The next record; a fatal (non-skippable) syntax error is thrown, a skippable one is returned in the record. */
    RawRecord next() throws DatasetFormatException, IOException;

    @Override
    void close() throws IOException;
}
