package io.peft4j.core.checkpoint;

import io.peft4j.core.checkpoint.internal.TensorLoader;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.internal.SafetensorsDtype;
import io.peft4j.core.checkpoint.internal.SafetensorsHeader;
import io.peft4j.core.checkpoint.internal.TensorEntry;
import io.peft4j.core.checkpoint.internal.Widening;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped reader for one {@code .safetensors} file. {@link #open} parses and validates the whole header
 * first (a malformed or hostile file is refused with a {@link CheckpointFormatException} naming the file and
 * tensor, before anything is mapped); each tensor is then mapped lazily on request with its own
 * {@link FileChannel#map} slice, so files over 2 GB work and nothing is copied until asked for.
 * Thread-safe for concurrent reads; close it to release the file handle.
 *
 * <pre>{@code
 * try (SafetensorsReader st = SafetensorsReader.open(Path.of("adapter_model.safetensors"))) {
 *     float[] a = st.readFloats("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class SafetensorsReader implements TensorSource {
    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsReader.class);

    private final Path file;
    private final FileChannel channel;
    private final SafetensorsHeader header;
    private final Map<String, TensorEntry> byName;

    private SafetensorsReader(Path file, FileChannel channel, SafetensorsHeader header) {
        this.file = file;
        this.channel = channel;
        this.header = header;
        Map<String, TensorEntry> m = new LinkedHashMap<>();
        for (TensorEntry e : header.entries()) {
            m.put(e.name(), e);
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Opens and validates {@code file}; nothing of the data section is read yet. */
    public static SafetensorsReader open(Path file) throws CheckpointFormatException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointFormatException(file, "not a regular file (missing or a folder)");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "cannot open: " + e, e);
        }
        try {
            SafetensorsHeader header = SafetensorsHeader.read(file, ch);
            LOG.debug("{}: {} tensors, data at byte {}", file, header.entries().size(), header.dataStart());
            return new SafetensorsReader(file, ch, header);
        } catch (CheckpointFormatException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /**
     * The weights of a Hugging Face model folder: {@code model.safetensors}, or the shards listed in
     * {@code model.safetensors.index.json}. A path to a {@code .safetensors} file is opened directly.
     */
    public static TensorSource openModelFolder(Path dir) throws CheckpointFormatException {
        if (Files.isRegularFile(dir)) {
            return dir.getFileName().toString().endsWith(".index.json") ? ShardedSafetensors.open(dir) : open(dir);
        }
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return open(single);
        }
        Path index = dir.resolve(ShardedSafetensors.INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return ShardedSafetensors.open(index);
        }
        throw new CheckpointFormatException(dir, "no model.safetensors or " + ShardedSafetensors.INDEX_FILE
                + " in this folder");
    }

    @Override
    public Path path() {
        return file;
    }

    /** Names in data order (by their byte offset in the file). */
    @Override
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape();
    }

    @Override
    public String dtype(String name) {
        return entry(name).dtype().name();
    }

    @Override
    public long storedBytes(String name) {
        return entry(name).byteLength();
    }

    /** Elements in the tensor (product of its shape). */
    public long numel(String name) {
        return entry(name).numel();
    }

    /** The {@code __metadata__} map (empty when the file has none). */
    @Override
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** The tensor's bytes exactly as stored: a read-only, little-endian view of the mapped file. */
    public ByteBuffer raw(String name) throws CheckpointFormatException {
        TensorEntry e = entry(name);
        if (e.byteLength() > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(file, name, e.byteLength() + " bytes: a single tensor over 2 GB "
                    + "cannot be mapped into one buffer");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart() + e.begin(), e.byteLength())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (ClosedChannelException ex) {
            throw new IllegalStateException(file + ": reader is closed", ex);
        } catch (IOException ex) {
            throw new CheckpointFormatException(file, "tensor '" + name + "': cannot map data: " + ex, ex);
        }
    }

    /** The tensor as a {@link TensorData} viewing the mapped bytes (no copy), e.g. to re-write it elsewhere. */
    public TensorData data(String name) throws CheckpointFormatException {
        TensorEntry e = entry(name);
        return new TensorData(e.dtype().name(), e.shape(), raw(name));
    }

    @Override
    public float[] readFloats(String name) throws CheckpointFormatException {
        TensorEntry e = entry(name);
        int n = elements(e);
        float[] out = new float[n];
        Widening.toFloats(e.dtype(), raw(name), java.nio.FloatBuffer.wrap(out), n);
        return out;
    }

    @Override
    public void readFloats(String name, float[] dst) throws CheckpointFormatException {
        TensorEntry e = entry(name);
        int n = elements(e);
        if (n > dst.length) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + n + " values, the buffer holds "
                    + dst.length);
        }
        Widening.toFloats(e.dtype(), raw(name), java.nio.FloatBuffer.wrap(dst), n);
    }

    /**
     * The tensor on {@code manager}: F32/F16/BF16/F64 as FLOAT32, I16 as INT32 (DJL's engine cannot hold BF16
     * or INT16), I8/U8/I32/I64/BOOL natively. The result owns its memory (never aliases the file).
     */
    @Override
    public NDArray load(String name, NDManager manager) throws CheckpointFormatException {
        TensorEntry e = entry(name);
        NDArray array = new TensorLoader(file, manager).load(e, raw(name));
        array.setName(name);
        return array;
    }

    private int elements(TensorEntry e) throws CheckpointFormatException {
        if (e.numel() > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file, e.name(), e.numel() + " elements do not fit a Java array");
        }
        return (int) e.numel();
    }

    private TensorEntry entry(String name) {
        TensorEntry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException(file + ": no tensor named '" + name + "' (" + byName.size()
                    + " tensors)");
        }
        return e;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", ch, e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsReader[" + file + ", " + byName.size() + " tensors]";
    }
}
