/**
 * Shared decoder building blocks that model families compose: {@link io.peft4j.core.model.block.RmsNorm},
 * {@link io.peft4j.core.model.block.RotaryEmbedding} (with its {@code Tables}),
 * {@link io.peft4j.core.model.block.AttentionLayout} (positions and the additive mask of one call),
 * {@link io.peft4j.core.model.block.GroupedQueryAttention} and the
 * {@link io.peft4j.core.model.block.WeightOverride} rule for trainable copies. Blocks hold no model-family
 * knowledge (no module paths, no config keys beyond {@link io.peft4j.core.ModelConfig}); all maths in fp32.
 */
package io.peft4j.core.model.block;
