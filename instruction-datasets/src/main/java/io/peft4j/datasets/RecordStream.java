package io.peft4j.datasets;

import io.peft4j.datasets.internal.RawRecord;
import io.peft4j.datasets.internal.RawRecordSource;
import io.peft4j.datasets.internal.RecordMapper;
import io.peft4j.datasets.internal.ShapeDetector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Records of one dataset file, read one at a time in constant memory (only the current record is held).
 *
 * <pre>{@code
 * try (RecordStream s = DatasetReader.builder().setPath(p).build().open()) {
 *     for (Conversation c = s.read(); c != null; c = s.read()) { count++; }
 * }
 * }</pre>
 * Not thread-safe; close it when done.
 *
 * @since 0.1.0
 */
public final class RecordStream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecordStream.class);
    /** How many skipped records' errors {@link #firstBadRecords()} keeps. */
    public static final int KEPT_BAD_RECORDS = 10;

    private final RawRecordSource source;
    private final String file;
    private final FieldNames names;
    private final boolean skipBad;
    private RecordShape shape;
    private RecordMapper mapper;
    private long good;
    private long bad;
    private final List<DatasetFormatException> firstErrors = new ArrayList<>();

    RecordStream(RawRecordSource source, String file, RecordShape shape, FieldNames names, boolean skipBad) {
        this.source = source;
        this.file = file;
        this.shape = shape;
        this.names = names;
        this.skipBad = skipBad;
        this.mapper = shape == null ? null : new RecordMapper(shape, names, file);
    }

    /**
     * The next record, or null at the end of the file. Throws on the first malformed record unless skipping; at the
     * end, throws when the file held no records or only bad ones.
     */
    public Conversation read() throws DatasetFormatException, IOException {
        for (RawRecord rec = source.next(); rec != null; rec = source.next()) {
            try {
                if (rec.error() != null) {
                    throw rec.error();
                }
                if (mapper == null) {
                    ShapeDetector.Detection d = ShapeDetector.detect(rec, names, file);
                    shape = d.shape();
                    mapper = new RecordMapper(shape, d.names(), file);
                    LOG.debug("{}: detected shape {}", file, shape);
                }
                Conversation c = mapper.map(rec);
                good++;
                return c;
            } catch (DatasetFormatException e) {
                if (!skipBad) {
                    throw e;
                }
                bad++;
                if (firstErrors.size() < KEPT_BAD_RECORDS) {
                    firstErrors.add(e);
                }
                LOG.debug("skipping bad record: {}", e.getMessage());
            }
        }
        return end();
    }

    private Conversation end() throws DatasetFormatException {
        if (good == 0 && bad == 0) {
            throw new DatasetFormatException(file, -1, -1, null, "no records (empty dataset)");
        }
        if (good == 0) {
            throw new DatasetFormatException(file, -1, -1, null, "all " + bad + " records are bad; first: " + firstErrors.get(0).getMessage());
        }
        return null;
    }

    /** The shape in use: configured, or detected from the first record (null before the first {@link #read()}). */
    public RecordShape shape() {
        return shape;
    }

    /** Records skipped as malformed so far. */
    public long badRecords() {
        return bad;
    }

    /**
     * The errors of the first {@value #KEPT_BAD_RECORDS} skipped records, in file order: each names the file, line and
     * reason ({@link DatasetFormatException#line()}, {@link DatasetFormatException#problem()}).
     */
    public List<DatasetFormatException> firstBadRecords() {
        return List.copyOf(firstErrors);
    }

    /** Records returned so far. */
    public long goodRecords() {
        return good;
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
