/**
 * Text generation and evaluation on a {@link io.peft4j.core.model.CausalLM}: {@link io.peft4j.core.generate.Generator}
 * (greedy and sampled decoding with a KV cache, batched, streamed) configured by
 * {@link io.peft4j.core.generate.GenerationConfig}, and {@link io.peft4j.core.generate.PerplexityEvaluator}
 * (token-weighted loss and perplexity with a sliding window).
 */
package io.peft4j.core.generate;
