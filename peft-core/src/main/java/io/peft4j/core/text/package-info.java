/**
 * Text input shared by every reader of user text files: {@link io.peft4j.core.text.StrictUtf8Reader} decodes UTF-8
 * strictly (malformed bytes are an {@link io.peft4j.core.text.InvalidUtf8Exception} with line and byte offset, never a
 * silent U+FFFD) and accepts a leading byte-order mark. The dataset readers and {@code eval}'s text reader use it.
 */
package io.peft4j.core.text;
