/**
 * LoRA internals (not API): target selection as PEFT does it ({@link io.peft4j.lora.internal.TargetSelector}),
 * the adapter handle spread over the wrapped layers ({@link io.peft4j.lora.internal.LoraAdapter}) and its seeds and
 * trainable biases ({@link io.peft4j.lora.internal.LoraAdapters}), and PEFT's {@code modules_to_save}: selection
 * ({@link io.peft4j.lora.internal.ModulesToSave}), the per-adapter copies of one module
 * ({@link io.peft4j.lora.internal.ModuleCopies}) and the projection wrapper that uses them
 * ({@link io.peft4j.lora.internal.ModulesToSaveLinear}).
 */
package io.peft4j.lora.internal;
