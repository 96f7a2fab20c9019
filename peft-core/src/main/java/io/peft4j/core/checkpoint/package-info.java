/**
 * Checkpoint readers: {@link io.peft4j.core.checkpoint.TensorSource} (lazy per-tensor access under Hugging Face
 * names), {@link io.peft4j.core.checkpoint.Checkpoint} and {@link io.peft4j.core.checkpoint.Checkpoints#open}
 * (a GGUF file or a Hugging Face folder). Safetensors: {@link io.peft4j.core.checkpoint.SafetensorsReader} (one
 * memory-mapped file, every header field validated), {@link io.peft4j.core.checkpoint.ShardedSafetensors}
 * ({@code model.safetensors.index.json}), plus {@link io.peft4j.core.checkpoint.SafetensorsWriter} and its value
 * type {@link io.peft4j.core.checkpoint.TensorData} for atomic writes in the Python library's exact layout.
 * Everything GGUF lives in {@code checkpoint.gguf}. Malformed or hostile files raise
 * {@link io.peft4j.core.CheckpointFormatException} naming the file and tensor.
 */
package io.peft4j.core.checkpoint;
