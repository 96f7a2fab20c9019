/**
 * Adapter internals (not API): the PEFT-layout adapter files (whole-folder atomic saves, NaN/Inf checks, fingerprint
 * checks), the base-model fingerprint, polymorphic {@code adapter_config.json} mapping by {@code peft_type},
 * merge-and-unload, and the {@code CausalLM} view whose forwards go through the active adapters. The entry type is
 * {@link io.peft4j.core.adapter.PeftModel}.
 */
package io.peft4j.core.adapter.internal;
