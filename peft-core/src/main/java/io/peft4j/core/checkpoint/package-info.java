/**
 * Checkpoint readers: {@link io.peft4j.core.checkpoint.TensorSource} (lazy per-tensor access under Hugging Face
 * names) and {@link io.peft4j.core.checkpoint.Checkpoint}. GGUF: {@link io.peft4j.core.checkpoint.GgufFile}
 * (spec-shaped reader, metadata, tensor infos, dequantization via {@link io.peft4j.core.checkpoint.GgmlType}),
 * {@link io.peft4j.core.checkpoint.GgufTensorSource} (llama.cpp names mapped to Hugging Face names, q/k rows
 * un-permuted) and {@link io.peft4j.core.checkpoint.GgufModelConfig} ({@code ModelConfig} from GGUF metadata).
 */
package io.peft4j.core.checkpoint;
