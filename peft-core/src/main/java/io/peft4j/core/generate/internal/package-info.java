/**
 * Generation internals (not API): per-row decoding state (padding, EOS and stop strings, streaming) and the sampler
 * (temperature, top-k, top-p, repetition penalty, seeded). The entry type is
 * {@link io.peft4j.core.generate.Generator}.
 */
package io.peft4j.core.generate.internal;
