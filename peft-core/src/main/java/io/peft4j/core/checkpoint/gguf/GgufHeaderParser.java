package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.core.checkpoint.gguf.GgufTensorInfo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a GGUF v2/v3 header (everything before the tensor data) following the GGUF spec field by field, and
 * validates it: counts against caps and the file size, duplicate keys and tensor names, ggml types, dimensions,
 * alignment, and every tensor's byte range against the file and its neighbours.
 *
 * <pre>{@code
 * GgufHeaderParser.Header h = GgufHeaderParser.parse(new GgufCursor(channel, path, channel.size()));
 * long dataStart = h.dataOffset();
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufHeaderParser {
    /** {@code "GGUF"} read as a little-endian uint32. */
    public static final long MAGIC = 0x4655_4747L;
    public static final long DEFAULT_ALIGNMENT = 32;
    public static final long MAX_TENSORS = 1L << 20;
    public static final long MAX_KV = 1L << 20;
    public static final int MAX_DIMS = 4;
    public static final long MAX_KEY = 65_535;
    public static final long MAX_TENSOR_NAME = 1024;

    /** The parsed header; {@code metadata} and {@code types} are unmodifiable and in file order. */
    public record Header(int version, Map<String, Object> metadata, Map<String, String> types,
                         List<GgufTensorInfo> tensors, long alignment, long dataOffset) {
    }

    private record RawTensor(String name, long[] ne, GgmlType type, long offset, long infoAt) {
    }

    private GgufHeaderParser() {
    }

    public static Header parse(GgufCursor in) throws CheckpointFormatException {
        long magic = in.u32("magic"); // uint32_t magic
        if (magic != MAGIC) {
            throw in.error(0, String.format("not a GGUF file: magic is 0x%08x, expected 0x%08x ('GGUF')", magic, MAGIC));
        }
        long version = in.u32("version"); // uint32_t version
        if (version != 2 && version != 3) {
            throw in.error(4, "unsupported GGUF version " + version + " (peft4j reads v2 and v3"
                    + (version == 1 ? "; v1 files are obsolete)" : version > 0xFFFF ? "; a big-endian file?)" : ")"));
        }
        long nTensors = count(in, "tensor_count", MAX_TENSORS, 8 + 4 + 8 + 4 + 8); // uint64_t tensor_count
        long nKv = count(in, "metadata_kv_count", MAX_KV, 8 + 4 + 1); // uint64_t metadata_kv_count
        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        GgufMetadataReader values = new GgufMetadataReader(in);
        for (long i = 0; i < nKv; i++) {
            readKv(in, values, metadata, types);
        }
        long alignment = alignment(in, metadata, types);
        List<RawTensor> raw = new ArrayList<>((int) nTensors);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            RawTensor t = readTensorInfo(in, i);
            if (!names.add(t.name)) {
                throw in.error(t.infoAt, "duplicate tensor name '" + t.name + "'");
            }
            raw.add(t);
        }
        long dataOffset = align(in.position(), alignment); // uint8_t _padding[ALIGN(pos) - pos]
        if (dataOffset > in.size() && nTensors > 0) {
            throw in.error(in.position(), "file ends before the tensor data section (aligned start " + dataOffset + ")");
        }
        List<GgufTensorInfo> tensors = place(in, raw, alignment, dataOffset);
        return new Header((int) version, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(types),
                Collections.unmodifiableList(tensors), alignment, dataOffset);
    }

    private static long count(GgufCursor in, String field, long cap, long minBytesEach)
            throws CheckpointFormatException {
        long at = in.position();
        long n = in.u64(field);
        if (n < 0 || n > cap) {
            throw in.error(at, field + " " + Long.toUnsignedString(n) + " exceeds the cap of " + cap);
        }
        if (n * minBytesEach > in.remaining()) {
            throw in.error(at, field + " " + n + " cannot fit in the " + in.remaining() + " bytes left in the file");
        }
        return n;
    }

    /** {@code gguf_metadata_kv_t}: {@code gguf_string_t key; gguf_metadata_value_type value_type; value}. */
    private static void readKv(GgufCursor in, GgufMetadataReader values, Map<String, Object> metadata,
                               Map<String, String> types) throws CheckpointFormatException {
        long at = in.position();
        String key = in.string("metadata key", MAX_KEY); // gguf_string_t key
        if (metadata.containsKey(key)) {
            throw in.error(at, "duplicate metadata key '" + key + "'");
        }
        long type = in.u32("metadata '" + key + "' value type"); // uint32_t value_type
        Object value = values.value(type, key); // gguf_metadata_value_t value
        metadata.put(key, value);
        types.put(key, type == GgufMetadataReader.ARRAY ? values.lastArrayTypeName()
                : GgufMetadataReader.typeName(type));
    }

    /** {@code general.alignment} (uint32, a power of two; default 32). */
    private static long alignment(GgufCursor in, Map<String, Object> metadata, Map<String, String> types)
            throws CheckpointFormatException {
        Object v = metadata.get("general.alignment");
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!(v instanceof Long a) || !"UINT32".equals(types.get("general.alignment"))) {
            throw in.error(in.position(), "metadata 'general.alignment' must be a UINT32, got "
                    + types.get("general.alignment"));
        }
        if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 20)) {
            throw in.error(in.position(), "metadata 'general.alignment' = " + a + " is not a power of two <= 2^20");
        }
        return a;
    }

    /** {@code gguf_tensor_info_t}: name, n_dimensions, dimensions[], type, offset. */
    private static RawTensor readTensorInfo(GgufCursor in, long index) throws CheckpointFormatException {
        long at = in.position();
        String name = in.string("tensor #" + index + " name", MAX_TENSOR_NAME); // gguf_string_t name
        String what = "tensor '" + name + "'";
        long nDims = in.u32(what + " n_dimensions"); // uint32_t n_dimensions
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw in.error(at, what + ": n_dimensions " + nDims + " is outside 1.." + MAX_DIMS);
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) {
            ne[d] = in.u64(what + " dimensions[" + d + "]"); // uint64_t dimensions[n_dimensions]
            if (ne[d] <= 0) {
                throw in.error(at, what + ": dimension " + d + " is " + Long.toUnsignedString(ne[d]));
            }
        }
        long typeId = in.u32(what + " type"); // ggml_type type
        GgmlType type = GgmlType.fromId(typeId).orElseThrow(
                () -> in.error(at, what + ": unknown ggml type " + typeId));
        long offset = in.u64(what + " offset"); // uint64_t offset
        return new RawTensor(name, ne, type, offset, at);
    }

    /** Sizes each tensor and checks alignment, bounds and overlap of the data ranges. */
    private static List<GgufTensorInfo> place(GgufCursor in, List<RawTensor> raw, long alignment, long dataOffset)
            throws CheckpointFormatException {
        List<GgufTensorInfo> out = new ArrayList<>(raw.size());
        for (RawTensor t : raw) {
            String what = "tensor '" + t.name + "'";
            long bytes;
            try {
                long n = 1;
                for (long d : t.ne) {
                    n = Math.multiplyExact(n, d);
                }
                if (t.ne[0] % t.type.blockSize() != 0) {
                    throw in.error(t.infoAt, what + ": row length ne[0]=" + t.ne[0] + " is not a multiple of the "
                            + t.type + " block size " + t.type.blockSize());
                }
                bytes = t.type.byteSize(n);
            } catch (ArithmeticException e) {
                throw in.error(t.infoAt, what + ": dimensions " + Arrays.toString(t.ne) + " overflow");
            }
            if (t.offset < 0 || t.offset % alignment != 0) {
                throw in.error(t.infoAt, what + ": data offset " + Long.toUnsignedString(t.offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            if (t.offset > in.size() - dataOffset || bytes > in.size() - dataOffset - t.offset) {
                throw in.error(t.infoAt, what + ": data [" + t.offset + ", +" + bytes + ") at file offset "
                        + (dataOffset + t.offset) + " runs past the end of the file (size " + in.size() + ")");
            }
            out.add(new GgufTensorInfo(t.name, t.ne, t.type, t.offset, dataOffset + t.offset, bytes));
        }
        List<GgufTensorInfo> byOffset = new ArrayList<>(out);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            GgufTensorInfo prev = byOffset.get(i - 1);
            GgufTensorInfo cur = byOffset.get(i);
            if (prev.offset() + prev.byteSize() > cur.offset()) {
                throw new CheckpointFormatException(in.file(), cur.name(), "data at offset " + cur.offset()
                        + " overlaps tensor '" + prev.name() + "' [" + prev.offset() + ", +" + prev.byteSize() + ")");
            }
        }
        return out;
    }

    /** Rounds {@code pos} up to a multiple of {@code alignment} (a power of two). */
    public static long align(long pos, long alignment) {
        return Math.addExact(pos, alignment - 1) & -alignment;
    }
}
