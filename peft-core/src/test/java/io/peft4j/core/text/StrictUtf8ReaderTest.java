package io.peft4j.core.text;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StrictUtf8Reader} against the JDK's reporting UTF-8 decoder as the oracle: on random text with random
 * breakage both decode the same characters, or both refuse at the same byte offset.
 */
class StrictUtf8ReaderTest {

    @Property
    void decode_matchesJdkStrictDecoder(@ForAll("brokenUtf8") byte[] bytes) throws IOException {
        int bom = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
                && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        CharsetDecoder jdk = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, bom, bytes.length - bom);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = jdk.decode(in, out, true);
        if (!r.isError()) {
            r = jdk.flush(out);
        }
        StringBuilder mine = new StringBuilder();
        // a tiny read buffer and a 1-byte-at-a-time stream exercise every refill boundary
        try (StrictUtf8Reader reader = new StrictUtf8Reader(new TrickleStream(bytes))) {
            char[] buf = new char[3];
            for (int n = reader.read(buf); n >= 0; n = reader.read(buf)) {
                mine.append(buf, 0, n);
            }
            assertTrue(!r.isError(), "JDK refuses at " + in.position() + ", we read " + mine.length() + " chars");
            out.flip();
            assertEquals(out.toString(), mine.toString());
        } catch (InvalidUtf8Exception e) {
            assertTrue(r.isError(), "we refuse (" + e.getMessage() + "), the JDK decodes");
            assertEquals(in.position(), e.byteOffset(), e.getMessage());
        }
    }

    @Provide
    Arbitrary<byte[]> brokenUtf8() {
        return Arbitraries.longs().map(seed -> {
            Random rng = new Random(seed);
            StringBuilder sb = new StringBuilder();
            int[] pool = {'a', '\n', '{', '"', 0xE9, 0x3B1, 0x20AC, 0xFFFD, 0xFEFF, 0x1F600, 0x10FFFF, 0x7F, 0x80};
            for (int i = 0, n = rng.nextInt(40); i < n; i++) {
                sb.appendCodePoint(pool[rng.nextInt(pool.length)]);
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            if (rng.nextInt(4) == 0) {
                b = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, b);
            }
            for (int i = 0, n = rng.nextInt(3); i < n && b.length > 0; i++) {
                int[] bad = {0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F};
                int at = rng.nextInt(b.length);
                b[at] = rng.nextBoolean() ? (byte) bad[rng.nextInt(bad.length)] : (byte) (b[at] ^ (1 << rng.nextInt(8)));
            }
            if (rng.nextInt(4) == 0 && b.length > 0) {
                b = java.util.Arrays.copyOf(b, rng.nextInt(b.length));
            }
            return b;
        });
    }

    @Example
    void readLine_skipsOnlyTheBadLine_andNamesLineAndOffset() throws IOException {
        byte[] bytes = concat("ok\r\n".getBytes(), new byte[] {'x', (byte) 0xC3, '(', '\n'}, "tail".getBytes());
        try (StrictUtf8Reader r = new StrictUtf8Reader(new ByteArrayInputStream(bytes))) {
            assertEquals("ok", r.readLine());
            InvalidUtf8Exception e = assertThrows(InvalidUtf8Exception.class, r::readLine);
            assertEquals(2, e.line());
            assertEquals(5, e.byteOffset());
            assertEquals("invalid UTF-8 at byte offset 5: byte 0x28 after 0xC3 is not a valid continuation of a "
                    + "2-byte character", e.getMessage());
            assertEquals("tail", r.readLine());
            assertNull(r.readLine());
        }
    }

    @Example
    void bom_isSkippedOnlyAtTheStart() throws IOException {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        try (StrictUtf8Reader r = new StrictUtf8Reader(new ByteArrayInputStream(concat(bom, "a".getBytes(), bom)))) {
            assertEquals("a\uFEFF", r.readLine());
        }
        List<String> lines = new ArrayList<>();
        try (StrictUtf8Reader r = new StrictUtf8Reader(new ByteArrayInputStream("\n\nx".getBytes()))) {
            for (String s = r.readLine(); s != null; s = r.readLine()) {
                lines.add(s);
            }
        }
        assertEquals(List.of("", "", "x"), lines);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Hands out at most two bytes per read, so sequences straddle refills. */
    private static final class TrickleStream extends InputStream {
        private final byte[] bytes;
        private int pos;

        TrickleStream(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() {
            return pos < bytes.length ? bytes[pos++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= bytes.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, 2), bytes.length - pos);
            System.arraycopy(bytes, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
