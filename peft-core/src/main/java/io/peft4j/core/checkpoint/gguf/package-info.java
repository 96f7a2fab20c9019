/**
 * GGUF internals (not API): the bounds-checked header cursor and parser ({@link
 * io.peft4j.core.checkpoint.gguf.GgufHeaderParser}), metadata value decoding, the scalar reference ggml
 * dequantization kernels ({@link io.peft4j.core.checkpoint.gguf.GgmlKernels}, the spec) and their parallel driver,
 * fp16/bf16 conversion, and the llama.cpp to Hugging Face tensor-name mapping with the q/k row un-permutation.
 * The entry type is {@link io.peft4j.core.checkpoint.GgufFile}.
 */
package io.peft4j.core.checkpoint.gguf;
