/**
 * The adapter SPI: {@link io.peft4j.core.adapter.AdapterConfig} (PEFT's {@code adapter_config.json}, polymorphic on
 * {@code peft_type}), {@link io.peft4j.core.adapter.AdapterMethod} (found through {@link java.util.ServiceLoader}),
 * {@link io.peft4j.core.adapter.Adapter} (one attached adapter) and {@link io.peft4j.core.adapter.PeftModel}, the
 * entry point: add, load, save (PEFT's folder layout), activate, disable, merge and hot-swap adapters, and
 * {@link io.peft4j.core.adapter.AdapterRegistry}, the thread-safe bookkeeping of which adapters are loaded and active.
 * This package never names a method (LoRA, prompt tuning): those plug in from their own modules.
 */
package io.peft4j.core.adapter;
