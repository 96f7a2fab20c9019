/**
 * Shared machinery of the fused decode path (see {@code io.peft4j.core.model.llama.FusedDecode}): the spinning worker
 * threads the decode kernels split their work over, and the SIMD loops (with scalar fallbacks) of attention over the
 * cache and of the LoRA row kernel. Used by peft-core, quantization and lora; not meant for applications.
 */
package io.peft4j.core.decode;
