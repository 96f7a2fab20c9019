/**
 * Checkpoint readers: {@link io.peft4j.core.checkpoint.TensorSource} (lazy per-tensor access under Hugging Face
 * names) and {@link io.peft4j.core.checkpoint.Checkpoint}.
 * Safetensors: {@link io.peft4j.core.checkpoint.SafetensorsReader} (one memory-mapped file, every header field
 * validated), {@link io.peft4j.core.checkpoint.ShardedSafetensors} ({@code model.safetensors.index.json}), plus
 * {@link io.peft4j.core.checkpoint.SafetensorsWriter} and its value type {@link io.peft4j.core.checkpoint.TensorData}
 * for atomic writes in the Python library's exact layout.
 * GGUF: {@link io.peft4j.core.checkpoint.GgufFile}
 * (spec-shaped reader, metadata, tensor infos, dequantization via {@link io.peft4j.core.checkpoint.GgmlType}),
 * {@link io.peft4j.core.checkpoint.GgufTensorSource} (llama.cpp names mapped to Hugging Face names, q/k rows
 * un-permuted) and {@link io.peft4j.core.checkpoint.GgufModelConfig} ({@code ModelConfig} from GGUF metadata).
 * Malformed or hostile files raise {@link io.peft4j.core.CheckpointFormatException} naming the file and tensor.
 */
package io.peft4j.core.checkpoint;
