package io.peft4j.cli;

import java.util.List;

/**
 * How {@code peft4j eval --generate} scores a generated answer against the reference: exact match after trimming
 * both, and ROUGE-L F1 (Lin 2004) on whitespace tokens: with {@code L} the length of the longest common
 * subsequence of the two token lists, precision {@code L / |answer|}, recall {@code L / |reference|} and
 * {@code F1 = 2PR / (P + R)}. Case and punctuation are kept as written (no stemming, no lower-casing), so the
 * numbers are reproducible by hand. Two empty texts score 1, one empty text scores 0.
 *
 * <pre>{@code
 * double f = AnswerScore.rougeL("the cat sat on the mat", "the cat lay on the mat");   // 5/6
 * boolean same = AnswerScore.exactMatch(" Paris\n", "Paris");                         // true
 * }</pre>
 */
final class AnswerScore {
    private AnswerScore() {
    }

    /** Whether the two texts are equal once leading and trailing white space is removed. */
    static boolean exactMatch(String answer, String reference) {
        return answer.strip().equals(reference.strip());
    }

    /** ROUGE-L F1 of {@code answer} against {@code reference} on whitespace tokens, in [0, 1]. */
    static double rougeL(String answer, String reference) {
        List<String> a = tokens(answer);
        List<String> r = tokens(reference);
        if (a.isEmpty() || r.isEmpty()) {
            return a.isEmpty() && r.isEmpty() ? 1.0 : 0.0;
        }
        int lcs = lcsLength(a, r);
        if (lcs == 0) {
            return 0.0;
        }
        double precision = (double) lcs / a.size();
        double recall = (double) lcs / r.size();
        return 2 * precision * recall / (precision + recall);
    }

    /** Length of the longest common subsequence, by the two-row dynamic programme (O(|a|·|b|) time). */
    static int lcsLength(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    private static List<String> tokens(String text) {
        String s = text.strip();
        return s.isEmpty() ? List.of() : List.of(s.split("\\s+"));
    }
}
