/**
 * Decoder-only language models behind the {@link io.peft4j.core.model.CausalLM} interface, organised as model
 * families over shared blocks. {@link io.peft4j.core.model.ModelFamilies} picks the
 * {@link io.peft4j.core.model.ModelFamily} (found by {@code ServiceLoader}) from a checkpoint's {@code model_type}
 * or architecture and refuses any architecture no family computes. Projections are built by a
 * {@link io.peft4j.core.model.LinearLayerFactory} (dense by default, quantized on load in {@code quantization});
 * a {@link io.peft4j.core.model.KvCache} keeps keys and values between generation steps. Families live in
 * sub-packages ({@code model.llama}); their building blocks in {@code model.block}.
 */
package io.peft4j.core.model;
