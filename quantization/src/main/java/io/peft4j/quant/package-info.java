/**
 * 4-bit and 8-bit weight quantization bit-compatible with bitsandbytes (NF4, FP4, INT8 blockwise, double
 * quantization), after QLoRA (Dettmers et al., "QLoRA: Efficient Finetuning of Quantized LLMs", arXiv 2305.14314).
 * Entry points: {@link io.peft4j.quant.Quantizer} (the reference codec), {@link io.peft4j.quant.QuantizedTensor}
 * (codes + {@link io.peft4j.quant.Absmax} scales) and {@link io.peft4j.quant.QuantizedLinear}, a frozen
 * {@link io.peft4j.core.LinearLayer} that keeps only the compact codes and dequantizes inside each forward.
 */
package io.peft4j.quant;
