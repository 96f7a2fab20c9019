/**
 * LoRA (Hu et al. 2021, arXiv:2106.09685) with rsLoRA and DoRA (Liu et al. 2024, arXiv:2402.09353), compatible
 * with Hugging Face PEFT. The public API: {@link io.peft4j.lora.LoraConfig} (PEFT's {@code adapter_config.json}
 * fields, with {@link io.peft4j.lora.TargetModules}, {@link io.peft4j.lora.LoraBias} and
 * {@link io.peft4j.lora.InitLoraWeights}), {@link io.peft4j.lora.LoraLinear} (wraps any
 * {@link io.peft4j.core.LinearLayer}, dense or quantized) and {@link io.peft4j.lora.LoraMethod}, the
 * {@link io.peft4j.core.adapter.AdapterMethod} registered through {@code META-INF/services}. Use it through
 * {@link io.peft4j.core.adapter.PeftModel}; implementation classes live in {@code io.peft4j.lora.internal}.
 */
package io.peft4j.lora;
