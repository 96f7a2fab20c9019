/**
 * Soft prompts on a frozen base model, as PEFT's prompt-learning methods: {@link io.peft4j.prompt.PromptTuningConfig}
 * / {@link io.peft4j.prompt.PromptTuningMethod} (prompt tuning, Lester et al. 2021) and
 * {@link io.peft4j.prompt.PromptEncoderConfig} / {@link io.peft4j.prompt.PTuningMethod} (P-tuning, Liu et al. 2021).
 * Both are {@link io.peft4j.core.adapter.AdapterMethod}s found through {@code META-INF/services}, so
 * {@link io.peft4j.core.adapter.PeftModel}, the Trainer and the CLI use them without naming them. Adapter files keep
 * PEFT's layout: {@code adapter_config.json} + {@code adapter_model.safetensors} with one tensor,
 * {@code prompt_embeddings [num_virtual_tokens, token_dim]}.
 */
package io.peft4j.prompt;
