package io.peft4j.datasets.internal;

import io.peft4j.core.tokenizer.Tokenizer;

import java.util.List;
import java.util.TreeSet;

/**
 * Tokenizes a rendered text once and maps character spans to token ranges, so labels follow the tokenization of
 * the whole text (what the model sees at inference) rather than of separately encoded pieces. A boundary at
 * character b maps to the length of the common prefix of encode(text[0:b]) and encode(text). When a token
 * straddles a boundary (e.g. "ASSISTANT: " + "Hi" encodes " Hi" as one token) the straddling token goes to the
 * later segment; such boundaries are counted as misaligned. Thread-safe when the tokenizer is.
 */
public final class PrefixAligner {
    private PrefixAligner() {
    }

    /** Token ids of the whole text and a trained flag per token. */
    public record Aligned(int[] ids, boolean[] trained, int misaligned) {
    }

    public static Aligned align(Tokenizer tok, String text, List<TurnSegmenter.Span> spans) {
        int[] full = tok.encode(text, false);
        TreeSet<Integer> cuts = new TreeSet<>();
        for (TurnSegmenter.Span s : spans) {
            cuts.add(s.start());
            cuts.add(s.end());
        }
        java.util.Map<Integer, Integer> tokenAt = new java.util.HashMap<>();
        int misaligned = 0;
        int previous = 0;
        for (int cut : cuts) {
            int index;
            if (cut <= 0) {
                index = 0;
            } else if (cut >= text.length()) {
                index = full.length;
            } else {
                int[] head = tok.encode(text.substring(0, cut), false);
                int lcp = commonPrefix(head, full);
                misaligned += lcp == head.length ? 0 : 1;
                index = lcp;
            }
            previous = Math.max(previous, index);
            tokenAt.put(cut, previous);
        }
        boolean[] trained = new boolean[full.length];
        for (TurnSegmenter.Span s : spans) {
            for (int j = tokenAt.get(s.start()); j < tokenAt.get(s.end()); j++) {
                trained[j] = true;
            }
        }
        return new Aligned(full, trained, misaligned);
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
