package io.peft4j.core.text;

import java.nio.charset.CharacterCodingException;

/**
 * Malformed UTF-8 met by {@link StrictUtf8Reader}: where (1-based line, 0-based byte offset of the first bad byte in
 * the decoded stream) and why. The message reads {@code invalid UTF-8 at byte offset 57: byte 0xFF cannot start a
 * character}; callers prefix the file and line.
 *
 * <pre>{@code
 * catch (InvalidUtf8Exception e) { throw new PeftException(file + ":" + e.line() + ": " + e.getMessage()); }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class InvalidUtf8Exception extends CharacterCodingException {
    private static final long serialVersionUID = 1L;

    private final long line;
    private final long byteOffset;
    private final String reason;

    /**
     * @param line       1-based line holding the bad byte
     * @param byteOffset 0-based offset of the bad sequence's first byte
     * @param reason     what is wrong with it
     */
    public InvalidUtf8Exception(long line, long byteOffset, String reason) {
        this.line = line;
        this.byteOffset = byteOffset;
        this.reason = reason;
    }

    /** 1-based line holding the bad byte. */
    public long line() {
        return line;
    }

    /** 0-based byte offset of the bad sequence's first byte. */
    public long byteOffset() {
        return byteOffset;
    }

    /** What is wrong, e.g. {@code byte 0xFF cannot start a character}. */
    public String reason() {
        return reason;
    }

    @Override
    public String getMessage() {
        return "invalid UTF-8 at byte offset " + byteOffset + ": " + reason;
    }
}
