/**
 * Implementation of the soft-prompt adapters: {@link io.peft4j.prompt.internal.SoftPromptAdapter} (the
 * {@link io.peft4j.core.adapter.Adapter} that prepends virtual tokens), the {@link io.peft4j.prompt.internal.PromptSource}
 * strategies that produce the virtual-token embeddings (a plain table for prompt tuning, an MLP encoder for
 * P-tuning) and {@link io.peft4j.prompt.internal.InitTokens} (PEFT's TEXT and SAMPLE_VOCAB initialisation). Not API.
 */
package io.peft4j.prompt.internal;
