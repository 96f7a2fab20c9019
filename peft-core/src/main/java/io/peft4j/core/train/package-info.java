/**
 * Training of adapters: {@link io.peft4j.core.train.Trainer} (causal-LM loss over label-masked tokens of
 * {@link io.peft4j.core.train.Example} rows, unpacked or packed, collated into {@link
 * io.peft4j.core.train.TrainingBatch}es; AdamW,
 * warmup + constant/linear/cosine schedules, gradient accumulation, clipping, evaluation, resumable checkpoints),
 * configured by {@link io.peft4j.core.train.TrainerConfig} and observed through
 * {@link io.peft4j.core.train.TrainingListener}s ({@link io.peft4j.core.train.ProgressPrinter},
 * {@link io.peft4j.core.train.MetricsJsonlWriter}).
 */
package io.peft4j.core.train;
