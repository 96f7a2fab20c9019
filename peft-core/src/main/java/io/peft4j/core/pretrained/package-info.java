/**
 * The library's entry point: {@link io.peft4j.core.pretrained.Peft4jModel} loads a base model from a GGUF file or a
 * Hugging Face folder (family from its config, optional quantize-on-load through a
 * {@link io.peft4j.core.model.QuantizationBackend}), owns its native memory, and generates, evaluates, trains and
 * takes adapters. Start here; the packages it builds on ({@code checkpoint}, {@code model}, {@code adapter},
 * {@code generate}, {@code train}) stay available for finer control.
 *
 * <pre>{@code
 * try (Peft4jModel model = Peft4jModel.builder().setPath(Path.of("SmolLM2.gguf")).build()) {
 *     System.out.println(model.generate("The capital of France is"));
 * }
 * }</pre>
 */
package io.peft4j.core.pretrained;
