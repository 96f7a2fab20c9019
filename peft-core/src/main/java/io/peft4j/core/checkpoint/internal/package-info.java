/**
 * Checkpoint internals (not API): the safetensors header parser and dtype table, header JSON writing, widening of
 * stored half floats and integers, tensor loading into NDArrays, the one half-float converter
 * ({@link io.peft4j.core.checkpoint.internal.HalfFloats}), and the Hugging Face folder checkpoint behind
 * {@link io.peft4j.core.checkpoint.Checkpoints#open}.
 */
package io.peft4j.core.checkpoint.internal;
