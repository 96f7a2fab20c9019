/**
 * LoRA (Hu et al. 2021, arXiv:2106.09685) with rsLoRA and DoRA (Liu et al. 2024, arXiv:2402.09353), compatible
 * with Hugging Face PEFT: {@link io.peft4j.lora.LoraConfig} (PEFT's {@code adapter_config.json} fields),
 * {@link io.peft4j.lora.LoraLinear} (wraps any {@link io.peft4j.core.LinearLayer}, dense or quantized) and
 * {@link io.peft4j.lora.LoraMethod}, the {@link io.peft4j.core.adapter.AdapterMethod} registered through
 * {@code META-INF/services}. Use it through {@link io.peft4j.core.adapter.PeftModel}.
 */
package io.peft4j.lora;
