/**
 * LoRA internals (not API): target selection as PEFT does it ({@link io.peft4j.lora.internal.TargetSelector}),
 * the adapter handle spread over the wrapped layers ({@link io.peft4j.lora.internal.LoraAdapter}) and its seeds and
 * trainable biases ({@link io.peft4j.lora.internal.LoraAdapters}).
 */
package io.peft4j.lora.internal;
