package io.peft4j.core.train.preference;

import io.peft4j.core.train.Example;

import java.util.ArrayList;
import java.util.List;

/**
 * One preference item: the prompt followed by the chosen answer, and the same prompt followed by the rejected answer,
 * each an {@link Example} whose labels mark the answer tokens only.
 *
 * <pre>{@code
 * List<Example> rows = PreferencePair.rows(pairs);        // c0, r0, c1, r1, ...
 * trainer.train(rows, PreferencePair.rows(heldOut));
 * }</pre>
 *
 * @param chosen   prompt + preferred answer
 * @param rejected prompt + dispreferred answer
 *
 * @since 0.1.0
 */
public record PreferencePair(Example chosen, Example rejected) {
    public PreferencePair {
        if (chosen == null || rejected == null) {
            throw new IllegalArgumentException("a preference pair needs a chosen and a rejected example");
        }
        if (chosen.trainedTokens() == 0 || rejected.trainedTokens() == 0) {
            throw new IllegalArgumentException("a preference pair needs answer tokens in both rows (chosen "
                    + chosen.trainedTokens() + ", rejected " + rejected.trainedTokens() + ")");
        }
    }

    /** The Trainer's rows for {@code pairs}: chosen then rejected, pair after pair. */
    public static List<Example> rows(List<PreferencePair> pairs) {
        List<Example> out = new ArrayList<>(pairs.size() * 2);
        for (PreferencePair p : pairs) {
            out.add(p.chosen());
            out.add(p.rejected());
        }
        return out;
    }
}
