/**
 * Executor-side machinery of the Spark jobs: the per-JVM base-model holder, the per-task trainer, the task
 * partitioner and the mixed-adapter inference loop. Not API: used only by {@code io.peft4j.spark}.
 */
package io.peft4j.spark.internal;
