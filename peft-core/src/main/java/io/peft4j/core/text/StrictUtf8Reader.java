package io.peft4j.core.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.util.Objects;

/**
 * The one UTF-8 decoder of peft4j's text readers: strict (overlong forms, surrogates, code points past U+10FFFF,
 * stray continuation bytes and truncated sequences are an {@link InvalidUtf8Exception} naming the line and byte
 * offset, never a silent U+FFFD), a byte-order mark at the very start is skipped, and the line and byte position
 * are tracked. Use it as a {@link Reader} (a JSON parser over a whole document: an error is fatal) or line by line
 * with {@link #readLine()}, which after an error resumes at the next line so a bad JSONL record can be skipped.
 *
 * <pre>{@code
 * try (StrictUtf8Reader r = new StrictUtf8Reader(Files.newInputStream(path))) {
 *     for (String s = r.readLine(); s != null; s = r.readLine()) { lines.add(s); }
 * } // an InvalidUtf8Exception says e.line() and e.byteOffset()
 * }</pre>
 * Not thread-safe.
 *
 * @since 0.1.0
 */
public final class StrictUtf8Reader extends Reader {
    private static final int BUFFER = 1 << 16;

    private final InputStream in;
    private final byte[] buf = new byte[BUFFER];
    private int pos;
    private int limit;
    private boolean eof;
    private boolean started;
    /** Absolute offset of {@code buf[pos]} in the stream. */
    private long offset;
    /** 1-based line of the next character. */
    private long line = 1;
    /** The low surrogate still owed after a supplementary character, or 0. */
    private char pendingLow;

    /** Decodes {@code in} (closed with this reader). */
    public StrictUtf8Reader(InputStream in) {
        this.in = Objects.requireNonNull(in, "in");
    }

    /** 1-based line of the next character to be read. */
    public long line() {
        return line;
    }

    /** 0-based byte offset of the next byte to be decoded (a skipped byte-order mark counts). */
    public long byteOffset() {
        return offset;
    }

    /**
     * The next line without its {@code \n} (and a {@code \r} before it), or null at the end. On malformed bytes it
     * throws, having skipped the rest of that line, so the next call returns the following line.
     */
    public String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c;
            try {
                c = next();
            } catch (InvalidUtf8Exception e) {
                skipRestOfLine();
                throw e;
            }
            if (c < 0 && sb.length() == 0) {
                return null;
            }
            if (c < 0 || c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            sb.append((char) c);
        }
    }

    @Override
    public int read(char[] cbuf, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, cbuf.length);
        if (len == 0) {
            return 0;
        }
        int n = 0;
        while (n < len) {
            int c = next();
            if (c < 0) {
                break;
            }
            cbuf[off + n++] = (char) c;
            if (pendingLow == 0 && pos >= limit) {
                break; // the buffer is drained: return what was decoded instead of blocking for more
            }
        }
        return n == 0 ? -1 : n;
    }

    /** The next UTF-16 unit, or -1 at the end. */
    private int next() throws IOException {
        if (pendingLow != 0) {
            char c = pendingLow;
            pendingLow = 0;
            return c;
        }
        if (!started) {
            started = true;
            skipBom();
        }
        if (!fill(1)) {
            return -1;
        }
        int b0 = buf[pos] & 0xFF;
        if (b0 < 0x80) {
            pos++;
            offset++;
            if (b0 == '\n') {
                line++;
            }
            return b0;
        }
        int cp = decodeMultiByte(b0);
        if (cp >= 0x10000) {
            pendingLow = Character.lowSurrogate(cp);
            return Character.highSurrogate(cp);
        }
        return cp;
    }

    /** Decodes the sequence starting with lead byte {@code b0} at {@code pos}; consumes it. */
    private int decodeMultiByte(int b0) throws IOException {
        int len;
        int min2 = 0x80;
        int max2 = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            min2 = b0 == 0xE0 ? 0xA0 : 0x80; // below: overlong
            max2 = b0 == 0xED ? 0x9F : 0xBF; // above: a UTF-16 surrogate
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            min2 = b0 == 0xF0 ? 0x90 : 0x80; // below: overlong
            max2 = b0 == 0xF4 ? 0x8F : 0xBF; // above: past U+10FFFF
        } else {
            throw bad(String.format("byte 0x%02X cannot start a character", b0));
        }
        fill(len);
        int cp = b0 & (0xFF >> (len + 1));
        for (int i = 1; i < len; i++) {
            if (pos + i >= limit) {
                throw bad(String.format("byte 0x%02X starts a %d-byte character but the input ends", b0, len));
            }
            int b = buf[pos + i] & 0xFF;
            int lo = i == 1 ? min2 : 0x80;
            int hi = i == 1 ? max2 : 0xBF;
            if (b < lo || b > hi) {
                throw bad(String.format("byte 0x%02X after 0x%02X is not a valid continuation of a %d-byte "
                        + "character", b, b0, len));
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        pos += len;
        offset += len;
        return cp;
    }

    private InvalidUtf8Exception bad(String reason) {
        return new InvalidUtf8Exception(line, offset, reason);
    }

    /** Skips the bad byte and everything up to and including the next {@code \n}. */
    private void skipRestOfLine() throws IOException {
        pendingLow = 0;
        if (fill(1)) {
            pos++;
            offset++;
        }
        while (fill(1)) {
            byte b = buf[pos++];
            offset++;
            if (b == '\n') {
                line++;
                return;
            }
        }
    }

    private void skipBom() throws IOException {
        if (fill(3) && limit - pos >= 3 && (buf[pos] & 0xFF) == 0xEF && (buf[pos + 1] & 0xFF) == 0xBB
                && (buf[pos + 2] & 0xFF) == 0xBF) {
            pos += 3;
            offset += 3;
        }
    }

    /** Tries to have {@code n} bytes buffered; true when at least one is. */
    private boolean fill(int n) throws IOException {
        if (limit - pos >= n || eof) {
            return pos < limit;
        }
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
            limit -= pos;
            pos = 0;
        }
        while (limit < n && !eof) {
            int r = in.read(buf, limit, buf.length - limit);
            if (r < 0) {
                eof = true;
            } else {
                limit += r;
            }
        }
        return pos < limit;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
