package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Decodes one GGUF metadata value ({@code gguf_metadata_value_t}) of a given {@code gguf_metadata_value_type},
 * including arrays and nested arrays, into plain Java objects: {@code Integer} (UINT8, INT8, UINT16, INT16, INT32),
 * {@code Long} (UINT32, INT64, UINT64; a UINT64 of 2^63 or more is refused), {@code Float} (FLOAT32),
 * {@code Double} (FLOAT64), {@code Boolean}, {@code String} and unmodifiable {@code List<Object>} (ARRAY).
 *
 * <p>Hostile-input caps: array lengths, nesting depth and the total number of array elements in a file are
 * bounded, and an array's minimum byte size is checked against the bytes left in the file before anything is
 * allocated. Not thread-safe (one instance per file being opened).
 *
 * <pre>{@code
 * GgufMetadataReader r = new GgufMetadataReader(cursor);
 * int type = (int) cursor.u32("value type");
 * Object value = r.value(type, "general.name");
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufMetadataReader {
    /** Longest string value accepted (chat templates are a few KB; 16 MiB is generous). */
    public static final long MAX_STRING = 16L << 20;
    /** Most elements in one array (the largest vocabularies have ~260K tokens, merges ~500K). */
    public static final long MAX_ARRAY = 1L << 22;
    /** Most array elements in all of a file's metadata together. */
    public static final long MAX_TOTAL_ELEMENTS = 1L << 24;
    private static final int MAX_DEPTH = 4;

    /** On-disk ids of {@code enum gguf_metadata_value_type}. */
    public static final int UINT8 = 0;
    public static final int INT8 = 1;
    public static final int UINT16 = 2;
    public static final int INT16 = 3;
    public static final int UINT32 = 4;
    public static final int INT32 = 5;
    public static final int FLOAT32 = 6;
    public static final int BOOL = 7;
    public static final int STRING = 8;
    public static final int ARRAY = 9;
    public static final int UINT64 = 10;
    public static final int INT64 = 11;
    public static final int FLOAT64 = 12;

    private static final String[] NAMES = {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL",
        "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"};
    private static final int[] MIN_BYTES = {1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};

    private final GgufCursor in;
    private long totalElements;
    private long lastArrayType = -1;

    public GgufMetadataReader(GgufCursor in) {
        this.in = in;
    }

    /** The spec's name of a value type id, e.g. {@code UINT32}. */
    public static String typeName(long type) {
        return type >= 0 && type < NAMES.length ? NAMES[(int) type] : "type#" + type;
    }

    /** The element type name of the last top-level array read, e.g. {@code ARRAY<STRING>}. */
    public String lastArrayTypeName() {
        return "ARRAY<" + typeName(lastArrayType) + ">";
    }

    /** Reads a value of type {@code type} for metadata key {@code key} (named in errors). */
    public Object value(long type, String key) throws CheckpointFormatException {
        return value(type, key, 0);
    }

    private Object value(long type, String key, int depth) throws CheckpointFormatException {
        String what = "metadata '" + key + "'";
        long at = in.position();
        return switch ((int) Math.max(-1, Math.min(type, 99))) {
            case UINT8 -> in.u8(what);
            case INT8 -> in.i8(what);
            case UINT16 -> in.u16(what);
            case INT16 -> in.i16(what);
            case UINT32 -> in.u32(what);
            case INT32 -> in.i32(what);
            case FLOAT32 -> in.f32(what);
            case BOOL -> in.bool(what);
            case STRING -> in.string(what, MAX_STRING);
            case ARRAY -> array(key, depth);
            case UINT64 -> {
                long v = in.u64(what);
                if (v < 0) {
                    throw in.error(at, what + ": UINT64 value " + Long.toUnsignedString(v) + " is above 2^63-1");
                }
                yield v;
            }
            case INT64 -> in.i64(what);
            case FLOAT64 -> in.f64(what);
            default -> throw in.error(at, what + ": unknown metadata value type " + type);
        };
    }

    /** {@code struct { gguf_metadata_value_type type; uint64_t len; gguf_metadata_value_t array[len]; }}. */
    private List<Object> array(String key, int depth) throws CheckpointFormatException {
        String what = "metadata '" + key + "'";
        long at = in.position();
        if (depth >= MAX_DEPTH) {
            throw in.error(at, what + ": arrays nested deeper than " + MAX_DEPTH + " levels");
        }
        long elemType = in.u32(what + " array element type");
        if (elemType < 0 || elemType >= NAMES.length) {
            throw in.error(at, what + ": unknown array element type " + elemType);
        }
        if (depth == 0) {
            lastArrayType = elemType;
        }
        long len = in.u64(what + " array length");
        if (len < 0 || len > MAX_ARRAY) {
            throw in.error(at, what + ": array length " + Long.toUnsignedString(len) + " exceeds the cap of "
                    + MAX_ARRAY);
        }
        if (len * MIN_BYTES[(int) elemType] > in.remaining()) {
            throw in.error(at, what + ": array of " + len + " " + typeName(elemType) + " values needs at least "
                    + len * MIN_BYTES[(int) elemType] + " bytes but only " + in.remaining() + " remain");
        }
        totalElements += len;
        if (totalElements > MAX_TOTAL_ELEMENTS) {
            throw in.error(at, what + ": metadata arrays hold more than " + MAX_TOTAL_ELEMENTS + " elements in total");
        }
        List<Object> out = new ArrayList<>((int) len);
        for (long i = 0; i < len; i++) {
            out.add(value(elemType, key, depth + 1));
        }
        return Collections.unmodifiableList(out);
    }
}
