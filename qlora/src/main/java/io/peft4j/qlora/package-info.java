/**
 * The QLoRA recipe (Dettmers et al., arXiv 2305.14314) as one object: a frozen base quantized to NF4 with double
 * quantization while it loads, LoRA adapters on every linear layer, training, and a small PEFT-layout adapter file.
 * Entry type: {@link io.peft4j.qlora.QLoraModel}. It composes the {@code quantization} and {@code lora} modules and
 * re-implements neither.
 */
package io.peft4j.qlora;
