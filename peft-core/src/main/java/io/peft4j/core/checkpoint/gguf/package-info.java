/**
 * GGUF (llama.cpp's format): the spec-shaped reader {@link io.peft4j.core.checkpoint.gguf.GgufFile} over a
 * bounds-checked header cursor and parser, tensor infos and ggml block types ({@link
 * io.peft4j.core.checkpoint.gguf.GgmlType}) with scalar reference dequantization kernels (the spec) and their
 * parallel driver, {@link io.peft4j.core.checkpoint.gguf.GgufTensorSource} (llama.cpp names mapped to Hugging Face
 * names, q/k rows un-permuted), {@link io.peft4j.core.checkpoint.gguf.GgufModelConfig} ({@code ModelConfig} from
 * metadata) and {@link io.peft4j.core.checkpoint.gguf.GgufCheckpoint}. The tokenizer reads the metadata map, not
 * this package.
 */
package io.peft4j.core.checkpoint.gguf;
