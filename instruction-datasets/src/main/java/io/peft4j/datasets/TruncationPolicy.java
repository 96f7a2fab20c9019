package io.peft4j.datasets;

/**
 * What {@link ExampleEncoder} does with an example longer than {@code maxSeqLen}.
 *
 * <pre>{@code
 * ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok).setTemplate(t)
 *         .optMaxSeqLen(512).optTruncation(TruncationPolicy.TRUNCATE_PROMPT_LEFT).build();
 * long cut = enc.encodeAll(records).stats().truncated();
 * }</pre>
 *
 * @since 0.1.0
 */
public enum TruncationPolicy {
    /** Leave the example out (counted as dropped). */
    DROP,
    /**
     * Remove tokens from the left of the prompt (after the leading BOS) but never trained tokens; if the
     * response alone is still too long its end is cut too. Examples left with no trained token are dropped.
     */
    TRUNCATE_PROMPT_LEFT,
    /** Keep the first {@code maxSeqLen} tokens, cutting the response from the right; dropped if nothing trained. */
    TRUNCATE_RESPONSE_RIGHT
}
