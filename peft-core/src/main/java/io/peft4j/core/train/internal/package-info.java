/**
 * Trainer internals (not API): the masked, shifted cross-entropy over a {@link io.peft4j.core.train.TrainingBatch},
 * the seeded per-epoch batch order, the seed rules recorded in checkpoints, and resumable checkpoints written
 * through {@link io.peft4j.core.io.AtomicFolder}. The entry type is {@link io.peft4j.core.train.Trainer}.
 */
package io.peft4j.core.train.internal;
