package io.peft4j.datasets;

import java.util.Arrays;
import java.util.List;

/**
 * Totals over an encoded dataset: counts by outcome, token-length percentiles (before truncation), and the share
 * of kept tokens that are trained.
 *
 * <pre>{@code
 * EncodingStats s = encoder.encodeAll(dataset.records()).stats();
 * double share = s.trainedTokenShare();
 * int p95 = s.lengthP95();
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param records        conversations encoded
 * @param kept           examples kept whole
 * @param truncated      examples truncated to {@code maxSeqLen}
 * @param dropped        examples left out (too long under DROP, or nothing trained left)
 * @param templateErrors conversations the template refused (only when skipping them)
 * @param tokens         tokens in the kept and truncated examples
 * @param trainedTokens  of those, tokens with a label
 * @param lengthP50      median length before truncation (nearest rank)
 * @param lengthP95      95th percentile length before truncation (nearest rank)
 * @param lengthMax      longest example before truncation
 * @param misaligned     segment boundaries that fell inside a token
 *
 * @since 0.1.0
 */
public record EncodingStats(long records, long kept, long truncated, long dropped, long templateErrors, long tokens,
                            long trainedTokens, int lengthP50, int lengthP95, int lengthMax, long misaligned) {

    /** Trained tokens over all tokens kept; 0 when nothing was kept. */
    public double trainedTokenShare() {
        return tokens == 0 ? 0 : (double) trainedTokens / tokens;
    }

    /** Stats of {@code results} ({@code templateErrors} conversations were skipped before encoding). */
    public static EncodingStats of(List<Encoded> results, long templateErrors) {
        long kept = 0;
        long truncated = 0;
        long dropped = 0;
        long tokens = 0;
        long trained = 0;
        long misaligned = 0;
        int[] lengths = new int[results.size()];
        for (int i = 0; i < lengths.length; i++) {
            Encoded e = results.get(i);
            lengths[i] = e.fullLength();
            misaligned += e.misaligned();
            switch (e.outcome()) {
                case KEPT: kept++; break;
                case TRUNCATED: truncated++; break;
                default: dropped++; break;
            }
            if (e.example() != null) {
                tokens += e.example().realTokens();
                trained += e.example().trainedTokens();
            }
        }
        Arrays.sort(lengths);
        return new EncodingStats(results.size() + templateErrors, kept, truncated, dropped, templateErrors, tokens,
                trained, percentile(lengths, 50), percentile(lengths, 95),
                lengths.length == 0 ? 0 : lengths[lengths.length - 1], misaligned);
    }

    /** Nearest-rank percentile of sorted values (0 for none). */
    static int percentile(int[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
