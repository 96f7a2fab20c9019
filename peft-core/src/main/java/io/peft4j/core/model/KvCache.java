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

    /** Drops everything cached; the cache can be reused for a new prompt. */
    void reset();

    @Override
    void close();
}
