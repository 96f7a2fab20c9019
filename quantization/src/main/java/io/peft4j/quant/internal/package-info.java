/**
 * Internals of the quantization module: the bitsandbytes-compatible 4-bit and 8-bit block codecs, the code tables,
 * emulations of the PyTorch fp32 reductions they depend on, the dequantization kernels, and the on-disk layout
 * of quantized weights ({@code StoredLayout}, {@code QuantStateJson}, {@code StoredReader}) and the
 * {@code quantization_config} node of {@code config.json} ({@link io.peft4j.quant.internal.QuantizationConfigJson}).
 * Not API: use {@link io.peft4j.quant.Quantizer} and {@link io.peft4j.quant.QuantizedLinear}.
 */
package io.peft4j.quant.internal;
