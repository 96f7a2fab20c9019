/**
 * The root of peft4j's core: {@link io.peft4j.core.Peft4j} (engine set-up and the root {@code NDManager}),
 * {@link io.peft4j.core.ModelConfig} (architecture and shapes from {@code config.json} or GGUF metadata), the
 * {@link io.peft4j.core.LinearLayer} seam every projection goes through (dense: {@link io.peft4j.core.DenseLinear}),
 * the {@link io.peft4j.core.Inference} flag for inference-only regions, and the checked exceptions
 * ({@link io.peft4j.core.PeftException} and its subtypes). Sub-packages: {@code checkpoint}, {@code tokenizer},
 * {@code model}, {@code generate}, {@code adapter}, {@code train}.
 */
package io.peft4j.core;
