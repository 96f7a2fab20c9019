package io.peft4j.core.model;

/**
 * Keys and values of earlier positions, per layer, so generation feeds one new token at a time.
 * Created by {@link CausalLM#newKvCache(int)}; owns native memory, so close it after generation.
 *
 * @since 0.1.0
 */
public interface KvCache extends AutoCloseable {

    /** Positions already cached (the next token's position). */
    int length();

    /**
     * Makes room for {@code positions} cached positions in total, so that a generation of known length allocates
     * once instead of growing (and copying) step by step. A hint: caches that do not preallocate ignore it.
     */
    default void reserve(int positions) {
    }

    /** Drops everything cached; the cache can be reused for a new prompt. */
    void reset();

    @Override
    void close();
}
