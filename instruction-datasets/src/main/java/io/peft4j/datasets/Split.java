package io.peft4j.datasets;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A deterministic train/validation split: the items are shuffled with {@link java.util.Random} from the seed
 * (whose sequence is fixed by the Java specification, so every JVM gives the same split) and the first
 * {@code round(n * validationFraction)} go to validation.
 *
 * <pre>{@code
 * Split<Conversation> s = Split.of(dataset.records(), 0.1, 42);
 * List<Conversation> train = s.train();
 * List<Conversation> val = s.validation();
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param train      the training items
 * @param validation the held-out items
 * @param <T>        item type
 *
 * @since 0.1.0
 */
public record Split<T>(List<T> train, List<T> validation) {
    public Split {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
    }

    public static <T> Split<T> of(List<T> items, double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in [0, 1), was " + validationFraction);
        }
        List<T> s = shuffled(items, seed);
        int nVal = (int) Math.round(items.size() * validationFraction);
        return new Split<>(s.subList(nVal, s.size()), s.subList(0, nVal));
    }

    /** A copy of {@code items} in a seeded Fisher-Yates order. */
    public static <T> List<T> shuffled(List<T> items, long seed) {
        List<T> s = new ArrayList<>(items);
        Collections.shuffle(s, new Random(seed));
        return s;
    }
}
