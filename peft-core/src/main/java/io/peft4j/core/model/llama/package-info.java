/**
 * The LLaMA family (Llama 1/2/3, TinyLlama, SmolLM/SmolLM2, Mistral, Qwen2): {@link
 * io.peft4j.core.model.llama.LlamaModel} composed of the shared blocks of {@code model.block}, its loader, its
 * preallocated KV cache, and layer-by-layer training with optional activation checkpointing. Registered as
 * {@link io.peft4j.core.model.llama.LlamaFamily}.
 */
package io.peft4j.core.model.llama;
