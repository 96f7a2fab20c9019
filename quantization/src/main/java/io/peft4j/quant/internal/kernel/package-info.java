/**
 * Matrix-vector kernels for decode: {@code y = x·Wᵀ} for a few input rows (1–16) read straight from a weight's
 * stored quantized form ({@link io.peft4j.quant.internal.kernel.QuantMatrix}: GGUF Q4_0 / Q4_1 / Q8_0 blocks, or
 * NF4 / FP4 codes with their per-block absmax), multiplied in fp32. Every kernel implements
 * {@link io.peft4j.quant.internal.kernel.MatVecKernel}; {@link io.peft4j.quant.internal.kernel.ScalarMatVecKernel}
 * is the spec (dequantize a value exactly as the reference codec does, then sum in index order) and the oracle of
 * the Vector API kernel {@link io.peft4j.quant.internal.kernel.VectorMatVecKernel}. {@link
 * io.peft4j.quant.internal.kernel.MatVec} picks the kernel once (and logs which and why), splits output rows over a
 * fork-join pool and moves the input and output through DJL arrays. Not API: layers use it through
 * {@link io.peft4j.quant.QuantizedLinear} and {@link io.peft4j.quant.GgmlBlockLinear}.
 */
package io.peft4j.quant.internal.kernel;
