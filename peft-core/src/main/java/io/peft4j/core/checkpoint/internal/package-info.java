/**
 * Internals of the safetensors reader and writer: header parsing and validation
 * ({@link io.peft4j.core.checkpoint.internal.SafetensorsHeader}), the dtype table, and the F16/BF16
 * conversions ({@link io.peft4j.core.checkpoint.internal.HalfFloats}). Not API: may change without notice.
 */
package io.peft4j.core.checkpoint.internal;
