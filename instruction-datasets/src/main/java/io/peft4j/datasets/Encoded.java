package io.peft4j.datasets;

/**
 * The result of encoding one {@link Conversation}: the example (null when dropped), what truncation did, the length
 * before truncation, and how many segment boundaries fell inside a token.
 *
 * <pre>{@code
 * Encoded e = encoder.encode(conversation);
 * if (e.outcome() != Encoded.Outcome.DROPPED) { rows.add(e.example()); }
 * int before = e.fullLength();
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param example    the training example, null when {@code outcome} is DROPPED
 * @param outcome    kept whole, truncated, or dropped
 * @param fullLength token count before truncation (EOS included)
 * @param misaligned segment boundaries that fell inside a token (the token went to the later segment)
 *
 * @since 0.1.0
 */
public record Encoded(TrainingExample example, Outcome outcome, int fullLength, int misaligned) {
    /** What happened to an example against {@code maxSeqLen}. */
    public enum Outcome { KEPT, TRUNCATED, DROPPED }

    public Encoded {
        if ((example == null) != (outcome == Outcome.DROPPED)) {
            throw new IllegalArgumentException("example must be null exactly when DROPPED (" + outcome + ")");
        }
    }
}
