/**
 * Engine-specific plumbing of {@code io.peft4j.core}: the one place that calls the PyTorch engine directly (the
 * per-thread grad mode). Not API.
 */
package io.peft4j.core.internal;
