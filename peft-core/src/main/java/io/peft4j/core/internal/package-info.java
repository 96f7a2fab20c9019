/**
 * Internal helpers of peft-core shared across its packages (not API): {@link io.peft4j.core.internal.F32Safetensors},
 * the fp32 safetensors subset used for adapter weights and optimizer state.
 */
package io.peft4j.core.internal;
