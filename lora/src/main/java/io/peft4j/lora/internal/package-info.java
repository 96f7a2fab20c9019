/**
 * LoRA internals (not API): one adapter inside a layer ({@link io.peft4j.lora.internal.LoraSlot}) and how it
 * computes its delta and merge, plain or DoRA ({@link io.peft4j.lora.internal.LoraVariant}); the layer's
 * immutable state ({@link io.peft4j.lora.internal.LayerState}) and the copy-on-write cell that frees dropped
 * arrays only when no forward uses them ({@link io.peft4j.lora.internal.SnapshotCell}); mixed-adapter batches
 * ({@link io.peft4j.lora.internal.MixedBatch}); the Java-array row kernel of a decode step
 * ({@link io.peft4j.lora.internal.LoraRows}); target selection as PEFT does it
 * ({@link io.peft4j.lora.internal.TargetSelector}) and its rank/alpha pattern keys
 * ({@link io.peft4j.lora.internal.PatternKeys}); the adapter handle spread over the wrapped layers
 * ({@link io.peft4j.lora.internal.LoraAdapter}) and its seeds and trainable biases
 * ({@link io.peft4j.lora.internal.LoraAdapters}); PEFT's {@code modules_to_save}: selection
 * ({@link io.peft4j.lora.internal.ModulesToSave}), the per-adapter copies of one module
 * ({@link io.peft4j.lora.internal.ModuleCopies}) and the projection wrapper that uses them
 * ({@link io.peft4j.lora.internal.ModulesToSaveLinear}); and JSON details
 * ({@link io.peft4j.lora.internal.IntegralDoubleSerializer}).
 */
package io.peft4j.lora.internal;
