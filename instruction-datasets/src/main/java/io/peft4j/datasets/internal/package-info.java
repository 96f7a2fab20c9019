/**
 * Implementation of {@link io.peft4j.datasets}: streaming JSON/JSONL sources ({@link
 * io.peft4j.datasets.internal.RawSources}), shape detection and record mapping, the jinjava chat-template engine
 * with its Python-Jinja2 shims ({@link io.peft4j.datasets.internal.JinjaChatTemplate}), turn segmentation by
 * prefix renders ({@link io.peft4j.datasets.internal.TurnSegmenter}) and token alignment ({@link
 * io.peft4j.datasets.internal.PrefixAligner}), and truncation with label building ({@link
 * io.peft4j.datasets.internal.Truncation}). Not an API: types here may change without notice.
 */
package io.peft4j.datasets.internal;
