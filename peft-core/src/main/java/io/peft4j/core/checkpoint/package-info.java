/**
 * Checkpoint access: the {@link io.peft4j.core.checkpoint.TensorSource} seam (lazy per-tensor reads under
 * Hugging Face names) and its safetensors implementations, {@link io.peft4j.core.checkpoint.SafetensorsReader}
 * (one memory-mapped file), {@link io.peft4j.core.checkpoint.ShardedSafetensors}
 * ({@code model.safetensors.index.json}), plus {@link io.peft4j.core.checkpoint.SafetensorsWriter} and its value
 * type {@link io.peft4j.core.checkpoint.TensorData} for atomic writes in the Python library's exact layout.
 * Malformed or hostile files raise {@link io.peft4j.core.CheckpointFormatException} naming the file and tensor.
 */
package io.peft4j.core.checkpoint;
