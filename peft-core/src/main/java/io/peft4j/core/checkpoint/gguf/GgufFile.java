package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.gguf.GgmlDequantizer;
import io.peft4j.core.checkpoint.gguf.GgufCursor;
import io.peft4j.core.checkpoint.gguf.GgufHeaderParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A llama.cpp GGUF file (spec versions 2 and 3): its metadata key/values, its tensor-info table and lazily
 * memory-mapped raw tensor data, with dequantization of every supported {@link GgmlType} to fp32 (which reads the
 * file without mapping it). Opening parses and validates the whole header (see {@link GgufHeaderParser}); a malformed or hostile file is refused with a
 * {@link CheckpointFormatException} naming the file, the byte offset and the key or tensor at fault.
 * Tensor names and layouts are llama.cpp's; {@link GgufTensorSource} maps them to Hugging Face names.
 *
 * <p>Thread-safe for reads after opening. {@link #close()} closes the file; mapped buffers already handed out
 * stay valid until they are garbage collected.
 *
 * <pre>{@code
 * try (GgufFile gguf = GgufFile.open(Path.of("SmolLM2-135M-Instruct.Q4_1.gguf"))) {
 *     int layers = gguf.getInt("llama.block_count", 0);
 *     float[] q = gguf.dequantize("blk.0.attn_q.weight");
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufFile implements AutoCloseable {
    /** Bytes read at a time when dequantizing. */
    private static final int READ_WINDOW = 1 << 20;
    /** One read window per thread, reused by every tensor (loading a model leaves no per-tensor garbage). */
    private static final ThreadLocal<ByteBuffer> WINDOW = ThreadLocal.withInitial(
            () -> ByteBuffer.allocate(READ_WINDOW).order(ByteOrder.LITTLE_ENDIAN));
    private final Path path;
    private final FileChannel channel;
    private final long fileSize;
    private final GgufHeaderParser.Header header;
    private final Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
    private volatile boolean closed;

    private GgufFile(Path path, FileChannel channel, long fileSize, GgufHeaderParser.Header header) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
        this.header = header;
        for (GgufTensorInfo t : header.tensors()) {
            byName.put(t.name(), t);
        }
    }

    /** Opens and validates {@code path}; the caller closes the result. */
    public static GgufFile open(Path path) throws CheckpointFormatException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointFormatException(path, "cannot open: " + e, e);
        }
        try {
            long size = ch.size();
            GgufHeaderParser.Header h = GgufHeaderParser.parse(new GgufCursor(ch, path, size));
            return new GgufFile(path, ch, size, h);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new CheckpointFormatException(path, "cannot read: " + e, e);
        } catch (CheckpointFormatException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** GGUF spec version (2 or 3). */
    public int version() {
        return header.version();
    }

    /** {@code general.alignment} or the default 32. */
    public long alignment() {
        return header.alignment();
    }

    /** Absolute file offset of the (aligned) tensor data section. */
    public long dataOffset() {
        return header.dataOffset();
    }

    public long fileSize() {
        return fileSize;
    }

    /**
     * All metadata in file order: {@code String}, {@code Integer} (8/16-bit and INT32), {@code Long} (UINT32,
     * INT64, UINT64), {@code Float}, {@code Double}, {@code Boolean} or an unmodifiable {@code List<Object>}.
     */
    public Map<String, Object> metadata() {
        return header.metadata();
    }

    /** The GGUF value type of {@code key} ({@code UINT32}, {@code ARRAY<STRING>}, ...), empty when absent. */
    public Optional<String> valueType(String key) {
        return Optional.ofNullable(header.types().get(key));
    }

    /** {@code general.architecture}, e.g. {@code llama}. */
    public String architecture() throws CheckpointFormatException {
        return getString("general.architecture").orElseThrow(
                () -> new CheckpointFormatException(path, "metadata 'general.architecture' is missing"));
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensors() {
        return header.tensors();
    }

    public Optional<GgufTensorInfo> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Optional<String> getString(String key) throws CheckpointFormatException {
        return Optional.ofNullable(typed(key, String.class, "a STRING"));
    }

    /** An integer value of any GGUF integer type that fits in an int, or {@code fallback} when absent. */
    public int getInt(String key, int fallback) throws CheckpointFormatException {
        Number n = typed(key, Number.class, "an integer");
        if (n == null) {
            return fallback;
        }
        if (n instanceof Float || n instanceof Double || n.longValue() != n.intValue()) {
            throw new CheckpointFormatException(path, "metadata '" + key + "' = " + n + " is not an int");
        }
        return n.intValue();
    }

    /** An integer value of any GGUF integer type, or {@code fallback} when absent. */
    public long getLong(String key, long fallback) throws CheckpointFormatException {
        Number n = typed(key, Number.class, "an integer");
        if (n instanceof Float || n instanceof Double) {
            throw new CheckpointFormatException(path, "metadata '" + key + "' = " + n + " is not an integer");
        }
        return n == null ? fallback : n.longValue();
    }

    /** A FLOAT32/FLOAT64 (or integer) value widened to double, or {@code fallback} when absent. */
    public double getDouble(String key, double fallback) throws CheckpointFormatException {
        Number n = typed(key, Number.class, "a number");
        return n == null ? fallback : n.doubleValue();
    }

    public boolean getBool(String key, boolean fallback) throws CheckpointFormatException {
        Boolean b = typed(key, Boolean.class, "a BOOL");
        return b == null ? fallback : b;
    }

    /** An {@code ARRAY<STRING>} value, empty when absent. */
    public Optional<List<String>> getStringList(String key) throws CheckpointFormatException {
        return GgufArrays.strings(path, key, typed(key, List.class, "an ARRAY"));
    }

    /** An array of any integer type as ints, empty when absent. */
    public Optional<int[]> getIntArray(String key) throws CheckpointFormatException {
        return GgufArrays.ints(path, key, typed(key, List.class, "an ARRAY"));
    }

    /** An array of FLOAT32/FLOAT64 values as floats, empty when absent. */
    public Optional<float[]> getFloatArray(String key) throws CheckpointFormatException {
        return GgufArrays.floats(path, key, typed(key, List.class, "an ARRAY"));
    }

    /**
     * The raw bytes of a tensor as a read-only little-endian buffer mapped from the file (position 0 is the first
     * byte of the tensor).
     */
    public ByteBuffer tensorData(GgufTensorInfo t) throws CheckpointFormatException {
        checkOpen();
        if (t.byteSize() > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(path, t.name(), t.byteSize() + " bytes is over the 2 GiB a single "
                    + "mapping can hold");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, t.fileOffset(), t.byteSize())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointFormatException(path, "tensor '" + t.name() + "': cannot map the data: " + e, e);
        }
    }

    /** The tensor dequantized to fp32 in ggml order (row-major over {@code ne}, {@code ne[0]} fastest). */
    public float[] dequantize(String name) throws CheckpointFormatException {
        GgufTensorInfo t = tensor(name).orElseThrow(() -> new CheckpointFormatException(path, name, "no such tensor"));
        return dequantize(t);
    }

    /**
     * See {@link #dequantize(String)}. The tensor's bytes are read with positional reads in windows of
     * {@value #READ_WINDOW} bytes (not mapped), so the file's pages do not join this process's resident set.
     */
    public float[] dequantize(GgufTensorInfo t) throws CheckpointFormatException {
        requireDequantizable(t);
        if (t.elementCount() > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(path, t.name(), t.elementCount() + " elements do not fit in a "
                    + "Java float[]");
        }
        float[] out = new float[(int) t.elementCount()];
        readBlocks(t, (window, values, off) -> GgmlDequantizer.dequantize(t.type(), window, values, out, off));
        return out;
    }

    /**
     * Dequantizes {@code t} (ggml order) into {@code out[0 .. elementCount)} with absolute puts: into a direct
     * buffer this needs no Java array of the tensor's size (the fp32 values exist once, where they are used).
     *
     * @throws IllegalArgumentException if {@code out} is too small
     */
    public void dequantizeInto(GgufTensorInfo t, FloatBuffer out) throws CheckpointFormatException {
        requireDequantizable(t);
        if (t.elementCount() > out.capacity()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.elementCount()
                    + " values, the buffer holds " + out.capacity());
        }
        readBlocks(t, (window, values, off) -> GgmlDequantizer.dequantize(t.type(), window, values, out, off));
    }

    private void requireDequantizable(GgufTensorInfo t) throws CheckpointFormatException {
        if (!t.type().dequantizable()) {
            throw new CheckpointFormatException(path, t.name(), "ggml type " + t.type()
                    + " cannot be dequantized by peft4j (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, "
                    + "Q2_K..Q6_K)");
        }
    }

    /** Reads whole blocks of {@code t} window by window and hands each to {@code decoder}. */
    private void readBlocks(GgufTensorInfo t, WindowDecoder decoder) throws CheckpointFormatException {
        checkOpen();
        GgmlType type = t.type();
        long blocks = t.elementCount() / type.blockSize();
        long perWindow = Math.max(1, READ_WINDOW / type.typeSize());
        ByteBuffer window = type.typeSize() <= READ_WINDOW ? WINDOW.get()
                : ByteBuffer.allocate(type.typeSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (long b = 0; b < blocks; b += perWindow) {
            long count = Math.min(perWindow, blocks - b);
            window.clear().limit(Math.toIntExact(count * type.typeSize()));
            long pos = t.fileOffset() + b * type.typeSize();
            try {
                while (window.hasRemaining()) {
                    if (channel.read(window, pos + window.position()) < 0) {
                        throw new CheckpointFormatException(path, t.name(), "file ends inside the tensor data");
                    }
                }
            } catch (IOException e) {
                throw new CheckpointFormatException(path, "tensor '" + t.name() + "': cannot read the data: " + e, e);
            }
            decoder.decode(window, count * type.blockSize(), Math.toIntExact(b * type.blockSize()));
        }
    }

    /** Decodes {@code values} values from the start of {@code window} to destination offset {@code dstOff}. */
    @FunctionalInterface
    private interface WindowDecoder {
        void decode(ByteBuffer window, long values, int dstOff);
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    private <T> T typed(String key, Class<T> type, String expected) throws CheckpointFormatException {
        Object v = header.metadata().get(key);
        if (v == null) {
            return null;
        }
        if (!type.isInstance(v)) {
            throw new CheckpointFormatException(path, "metadata '" + key + "' is " + header.types().get(key)
                    + ", expected " + expected);
        }
        return type.cast(v);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a read-only channel: nothing to recover
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version() + ", " + tensors().size() + " tensors, " + metadata().size()
                + " keys]";
    }
}
