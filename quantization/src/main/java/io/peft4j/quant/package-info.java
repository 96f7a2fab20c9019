/**
 * 4-bit and 8-bit weight quantization bit-compatible with bitsandbytes (NF4, FP4, INT8 blockwise, double
 * quantization), after QLoRA (Dettmers et al., "QLoRA: Efficient Finetuning of Quantized LLMs", arXiv 2305.14314).
 * Entry points: {@link io.peft4j.quant.Quantizer} (the reference codec), {@link io.peft4j.quant.QuantizedTensor}
 * (codes + {@link io.peft4j.quant.Absmax} scales) and {@link io.peft4j.quant.QuantizedLinear}, a frozen
 * {@link io.peft4j.core.LinearLayer} that keeps only the compact codes and dequantizes inside each forward.
 * Checkpoints: {@link io.peft4j.quant.QuantizedCheckpointWriter} saves, and {@link io.peft4j.quant.QuantizedCheckpoints}
 * opens, folders in the layout transformers + bitsandbytes write for 4-bit weights (packed U8 codes, absmax,
 * quant maps, nested statistics, {@code quant_state.bitsandbytes__nf4|fp4} JSON, {@code quantization_config});
 * {@link io.peft4j.quant.StoredQuantLinearFactory} builds layers from the stored codes without re-quantizing, and
 * {@link io.peft4j.quant.QuantizedTensorSource} presents such a folder dequantized (shapes, {@code readFloats}) with
 * the stored byte counts.
 */
package io.peft4j.quant;
