package io.peft4j.core.tokenizer.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * BPE merges recovered from a SentencePiece vocabulary and its scores, exactly as transformers'
 * {@code generate_merges(vocab, vocab_scores)} does for a GGUF without merges: every split of a token into two
 * tokens of the vocabulary is a merge, ordered within a token by the ids of its halves, then all merges by
 * (score, left length, right length) descending with ties kept in order (a stable sort, like Python's).
 * Lengths and split points count code points, as Python strings do.
 */
public final class SentencePieceMerges {
    private SentencePieceMerges() {
    }

    private record Merge(String left, String right, double score, int leftLength, int rightLength) {
    }

    /**
     * @param vocab  token to id (the last id wins for a duplicated token, as a Python dict built in order does)
     * @param scores token to score, iterated in insertion order (first occurrence order, last value)
     */
    public static List<String[]> generate(Map<String, Integer> vocab, Map<String, Double> scores) {
        List<Merge> merges = new ArrayList<>();
        for (Map.Entry<String, Double> e : scores.entrySet()) {
            String token = e.getKey();
            int n = token.codePointCount(0, token.length());
            List<Merge> local = new ArrayList<>();
            for (int cut = 1; cut < n; cut++) {
                int at = token.offsetByCodePoints(0, cut);
                String left = token.substring(0, at);
                String right = token.substring(at);
                if (vocab.containsKey(left) && vocab.containsKey(right)) {
                    local.add(new Merge(left, right, e.getValue(), cut, n - cut));
                }
            }
            local.sort(Comparator.<Merge>comparingInt(m -> vocab.get(m.left()))
                    .thenComparingInt(m -> vocab.get(m.right())));
            merges.addAll(local);
        }
        Comparator<Merge> key = Comparator.<Merge>comparingDouble(Merge::score)
                .thenComparingInt(Merge::leftLength)
                .thenComparingInt(Merge::rightLength);
        merges.sort(key.reversed());
        List<String[]> out = new ArrayList<>(merges.size());
        for (Merge m : merges) {
            out.add(new String[] {m.left(), m.right()});
        }
        return out;
    }
}
