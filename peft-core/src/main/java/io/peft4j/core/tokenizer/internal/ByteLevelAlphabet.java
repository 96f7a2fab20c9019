package io.peft4j.core.tokenizer.internal;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-to-character table ({@code bytes_to_unicode} in transformers): printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100 upwards, so every byte sequence has a visible, reversible spelling.
 */
public final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = build();
    private static final boolean[] IN_ALPHABET = members();

    private ByteLevelAlphabet() {
    }

    /** True when every character of {@code token} is one of the 256 byte characters. */
    public static boolean spelledInAlphabet(String token) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= IN_ALPHABET.length || !IN_ALPHABET[c]) {
                return false;
            }
        }
        return true;
    }

    /** The byte-level spelling of {@code text}'s UTF-8 bytes. */
    public static String spell(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            sb.append(BYTE_TO_CHAR[b & 0xFF]);
        }
        return sb.toString();
    }

    private static char[] build() {
        char[] table = new char[256];
        boolean[] direct = new boolean[256];
        for (int b = 0; b < 256; b++) {
            direct[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        }
        int next = 0;
        for (int b = 0; b < 256; b++) {
            table[b] = direct[b] ? (char) b : (char) (256 + next++);
        }
        return table;
    }

    private static boolean[] members() {
        boolean[] in = new boolean[256 + 68];
        for (char c : BYTE_TO_CHAR) {
            in[c] = true;
        }
        return in;
    }
}
