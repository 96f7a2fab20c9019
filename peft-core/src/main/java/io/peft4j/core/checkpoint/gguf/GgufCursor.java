package io.peft4j.core.checkpoint.gguf;

import io.peft4j.core.CheckpointFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A little-endian read cursor over a GGUF file's header with a bounds check before every read: reading past the
 * end of the file raises a {@link CheckpointFormatException} that names the file, the byte offset and what was
 * being read, never an {@code IOException} or {@code BufferUnderflowException}.
 *
 * <p>Not thread-safe; used only while a {@code GgufFile} is being opened.
 *
 * <pre>{@code
 * GgufCursor c = new GgufCursor(channel, path, channel.size());
 * long magic = c.u32("magic");
 * String key = c.string("key", 65536);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufCursor {
    private static final int WINDOW = 1 << 16;

    private final FileChannel channel;
    private final Path file;
    private final long size;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW).order(ByteOrder.LITTLE_ENDIAN);
    private long windowStart;
    private long pos;

    public GgufCursor(FileChannel channel, Path file, long size) {
        this.channel = channel;
        this.file = file;
        this.size = size;
        window.limit(0);
    }

    /** Absolute file offset of the next read. */
    public long position() {
        return pos;
    }

    public long size() {
        return size;
    }

    public Path file() {
        return file;
    }

    /** Bytes left between the cursor and the end of the file. */
    public long remaining() {
        return size - pos;
    }

    public int u8(String what) throws CheckpointFormatException {
        return need(1, what).get() & 0xFF;
    }

    public int i8(String what) throws CheckpointFormatException {
        return need(1, what).get();
    }

    public int u16(String what) throws CheckpointFormatException {
        return need(2, what).getShort() & 0xFFFF;
    }

    public int i16(String what) throws CheckpointFormatException {
        return need(2, what).getShort();
    }

    public long u32(String what) throws CheckpointFormatException {
        return need(4, what).getInt() & 0xFFFF_FFFFL;
    }

    public int i32(String what) throws CheckpointFormatException {
        return need(4, what).getInt();
    }

    /** A uint64 as a Java long; values of 2^63 and above come back negative (callers range-check). */
    public long u64(String what) throws CheckpointFormatException {
        return need(8, what).getLong();
    }

    public long i64(String what) throws CheckpointFormatException {
        return need(8, what).getLong();
    }

    public float f32(String what) throws CheckpointFormatException {
        return need(4, what).getFloat();
    }

    public double f64(String what) throws CheckpointFormatException {
        return need(8, what).getDouble();
    }

    /** {@code bool}: one byte that must be 0 or 1. */
    public boolean bool(String what) throws CheckpointFormatException {
        long at = pos;
        int b = u8(what);
        if (b > 1) {
            throw error(at, what + ": bool byte is " + b + ", expected 0 or 1");
        }
        return b == 1;
    }

    /** {@code gguf_string_t}: {@code uint64_t len; char string[len]} (UTF-8, not NUL-terminated). */
    public String string(String what, long maxLength) throws CheckpointFormatException {
        long at = pos;
        long len = u64(what + " length");
        if (len < 0 || len > maxLength) {
            throw error(at, what + ": string length " + Long.toUnsignedString(len) + " exceeds the cap of "
                    + maxLength + " bytes");
        }
        if (len > remaining()) {
            throw error(at, what + ": string length " + len + " runs past the end of the file (" + remaining()
                    + " bytes left)");
        }
        return new String(bytes((int) len, what), StandardCharsets.UTF_8);
    }

    /** Skips forward to {@code offset} (used for the alignment padding before the data section). */
    public void seek(long offset, String what) throws CheckpointFormatException {
        if (offset < pos || offset > size) {
            throw error(pos, what + ": offset " + offset + " is outside the file (size " + size + ")");
        }
        pos = offset;
    }

    /** A {@link CheckpointFormatException} naming the file and the byte offset. */
    public CheckpointFormatException error(long offset, String detail) {
        return new CheckpointFormatException(file, detail + " (at byte offset " + offset + ")");
    }

    private byte[] bytes(int n, String what) throws CheckpointFormatException {
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            int chunk = Math.min(n - done, WINDOW);
            need(chunk, what).get(out, done, chunk);
            done += chunk;
        }
        return out;
    }

    private ByteBuffer need(int n, String what) throws CheckpointFormatException {
        if (n > size - pos) {
            throw error(pos, "truncated file: " + what + " needs " + n + " bytes but only " + (size - pos)
                    + " remain (file size " + size + ")");
        }
        long rel = pos - windowStart;
        if (rel < 0 || rel + n > window.limit()) {
            fill();
            rel = 0;
        }
        window.position((int) rel);
        pos += n;
        return window;
    }

    private void fill() throws CheckpointFormatException {
        window.clear();
        windowStart = pos;
        int want = (int) Math.min(WINDOW, size - pos);
        try {
            while (window.position() < want) {
                int r = channel.read(window, windowStart + window.position());
                if (r < 0) {
                    throw error(windowStart + window.position(), "unexpected end of file while reading the header");
                }
            }
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "read failed at byte offset " + pos + ": " + e.getMessage(), e);
        }
        window.flip();
    }
}
