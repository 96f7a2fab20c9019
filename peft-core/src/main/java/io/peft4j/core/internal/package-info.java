/**
 * Process-level helpers peft4j's own tools and tests share, not part of the modelling API:
 * {@link io.peft4j.core.internal.ProcessMemory} (resident memory and its peak from {@code /proc/self/status}, read
 * by the CLI's {@code peak_rss_mb}, the benches and the memory tests). Not API: may change without notice.
 */
package io.peft4j.core.internal;
