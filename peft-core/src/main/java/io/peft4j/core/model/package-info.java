/**
 * Decoder-only language models behind the {@link io.peft4j.core.model.CausalLM} interface. The entry type is
 * {@link io.peft4j.core.model.LlamaModel} (LLaMA family, fp32), loaded from any
 * {@link io.peft4j.core.checkpoint.TensorSource} with projections built by a
 * {@link io.peft4j.core.model.LinearLayerFactory}; its {@link io.peft4j.core.model.KvCache} keeps keys and
 * values between generation steps. Training goes through {@code CausalLM.backward}, which LlamaModel runs layer
 * by layer with optional activation checkpointing (package-private {@code ActivationCheckpointing}); trainable copies
 * of the embedding and norms plug in through {@code CausalLM.overrideWeight}.
 */
package io.peft4j.core.model;
