package io.peft4j.core.checkpoint;

import io.peft4j.core.checkpoint.internal.HeaderJson;
import ai.djl.ndarray.NDArray;
import io.peft4j.core.checkpoint.internal.SafetensorsDtype;
import io.peft4j.core.io.CrashPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code .safetensors} files the way the Python/Rust {@code safetensors} library does: tensors ordered by
 * dtype alignment (descending) then name, contiguous data offsets, {@code __metadata__} first, compact header
 * JSON padded with spaces to a multiple of 8 bytes. Writes are atomic: the file is built under a temporary
 * name in the same folder, fsynced, then renamed over the target, so a failure leaves any old file untouched.
 * Stateless and thread-safe.
 *
 * <pre>{@code
 * Map<String, TensorData> tensors = Map.of("w", TensorData.f32(new float[] {1f, 2f}, 2));
 * SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
 * }</pre>
 *
 * @since 0.1.0
 */
public final class SafetensorsWriter {
    /** {@link CrashPoint}: the complete file is fsynced under its temp name, not yet renamed. */
    public static final String TEMP_WRITTEN = "safetensors.temp-written";
    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsWriter.class);

    private SafetensorsWriter() {
    }

    /** Name, dtype and shape of a tensor to be written, so the header can be laid out before any data. */
    public record Entry(String name, String dtype, long[] shape) {
        public Entry {
            if (name == null || name.isEmpty() || "__metadata__".equals(name)) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            }
            dtype = SafetensorsDtype.require(dtype).name();
            shape = shape.clone();
        }

        /** The entry describing {@code data} under {@code name}. */
        public static Entry of(String name, TensorData data) {
            return new Entry(name, data.dtype(), data.shape());
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Bytes of the data this entry describes. */
        public long byteLength() {
            long n = SafetensorsDtype.require(dtype).size();
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    /** Supplies each tensor's data when the writer reaches it (in file order), for streaming writes. */
    @FunctionalInterface
    public interface TensorProducer {
        TensorData produce(String name) throws IOException;
    }

    /** Writes {@code tensors} (and {@code metadata}, may be empty or null) atomically to {@code file}. */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        List<Entry> entries = new ArrayList<>();
        tensors.forEach((name, data) -> entries.add(Entry.of(name, data)));
        write(file, entries, metadata, tensors::get);
    }

    /** Writes DJL arrays (FLOAT32/FLOAT16/FLOAT64/INT8/UINT8/INT32/INT64/BOOLEAN) atomically to {@code file}. */
    public static void writeArrays(Path file, Map<String, NDArray> arrays, Map<String, String> metadata)
            throws IOException {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        arrays.forEach((name, array) -> tensors.put(name, TensorData.of(array)));
        write(file, tensors, metadata);
    }

    /**
     * Streaming write: the header is laid out from {@code entries}, then {@code producer} is asked for each
     * tensor in file order, so only one tensor needs to be in memory at a time. The produced data must match its
     * entry's dtype and shape. If the producer throws, the target file is left as it was.
     */
    public static void write(Path file, List<Entry> entries, Map<String, String> metadata, TensorProducer producer)
            throws IOException {
        List<Entry> ordered = order(entries);
        byte[] header = HeaderJson.encode(ordered, metadata == null ? Map.of() : metadata);
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, prefix.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                for (Entry e : ordered) {
                    writeFully(ch, checked(e, producer.produce(e.name())));
                }
                ch.force(true);
            }
            setReadableByAll(tmp);
            CrashPoint.reach(TEMP_WRITTEN);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        syncFolder(dir);
        LOG.debug("wrote {} ({} tensors, header {} bytes)", target, ordered.size(), header.length);
    }

    /** The Rust library's order: dtype descending (by alignment), then name. Duplicate names are refused. */
    static List<Entry> order(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing((Entry e) -> SafetensorsDtype.require(e.dtype())).reversed()
                .thenComparing(Entry::name));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + sorted.get(i).name() + "'");
            }
        }
        return sorted;
    }

    private static ByteBuffer checked(Entry e, TensorData data) throws IOException {
        if (data == null) {
            throw new IOException("no data produced for tensor '" + e.name() + "'");
        }
        if (!data.dtype().equals(e.dtype()) || !Arrays.equals(data.shape(), e.shape())) {
            throw new IOException("tensor '" + e.name() + "': produced " + data.dtype() + Arrays.toString(data.shape())
                    + " but the header declares " + e.dtype() + Arrays.toString(e.shape()));
        }
        return data.data();
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static void setReadableByAll(Path tmp) {
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException | IOException e) {
            LOG.debug("cannot set permissions of {}", tmp, e);
        }
    }

    /** Makes the rename durable (best effort: not every platform can fsync a folder). */
    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot fsync folder {}", dir, e);
        }
    }
}
