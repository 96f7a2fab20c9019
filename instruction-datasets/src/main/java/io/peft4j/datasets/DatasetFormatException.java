package io.peft4j.datasets;

import io.peft4j.core.PeftException;

/**
 * A dataset file that cannot be read as records: bad JSON, a missing field, a field of the wrong type, no records.
 * The message names the file, the 1-based line (JSONL) or record index (JSON array) and the field.
 *
 * <pre>{@code
 * try (RecordStream s = DatasetReader.builder().setPath(path).build().open()) { s.forEachRemaining(c -> { }); }
 * catch (DatasetFormatException e) { log.error("{} at line {}", e.file(), e.line()); }
 * }</pre>
 *
 * @since 0.1.0
 */
public class DatasetFormatException extends PeftException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long line;
    private final long recordIndex;
    private final String field;
    private final String problem;

    /**
     * @param file        the dataset file (as given)
     * @param line        1-based line, or -1 when unknown
     * @param recordIndex 0-based record index, or -1 when unknown
     * @param field       the field at fault (e.g. {@code conversations[2].from}), or null for the record itself
     * @param problem     what is wrong
     */
    public DatasetFormatException(String file, long line, long recordIndex, String field, String problem) {
        super(format(file, line, recordIndex, field, problem));
        this.file = file;
        this.line = line;
        this.recordIndex = recordIndex;
        this.field = field;
        this.problem = problem;
    }

    private static String format(String file, long line, long recordIndex, String field, String problem) {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        if (recordIndex >= 0) {
            sb.append(" (record ").append(recordIndex).append(')');
        }
        sb.append(": ");
        if (field != null) {
            sb.append("field '").append(field).append("': ");
        }
        return sb.append(problem).toString();
    }

    public String file() {
        return file;
    }

    /** 1-based line, -1 when unknown. */
    public long line() {
        return line;
    }

    /** 0-based record index, -1 when unknown. */
    public long recordIndex() {
        return recordIndex;
    }

    /** What is wrong, without the file and position; prefixed by {@code field 'NAME': } when a field is at fault. */
    public String problem() {
        return field == null ? problem : "field '" + field + "': " + problem;
    }

    /** The field at fault, or null. */
    public String field() {
        return field;
    }
}
