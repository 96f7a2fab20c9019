/**
 * Apache Spark jobs over peft4j's public API. {@link io.peft4j.spark.ManyAdapters} trains one LoRA adapter per
 * task on the executors (each executor JVM loads the base model once and trains its tasks one after another,
 * writing each adapter atomically in PEFT's layout, to a local folder or any Hadoop file system such as
 * {@code hdfs://} or {@code s3a://}); {@link io.peft4j.spark.BatchInference} generates for a
 * DataFrame of prompts with a per-row {@code adapter} column in mixed-adapter batches. Both take a
 * {@code Dataset<Row>} and return one, and both have a {@code spark-submit} main ({@link
 * io.peft4j.spark.ManyAdaptersMain}, {@link io.peft4j.spark.BatchInferenceMain}). Spark is a {@code provided}
 * dependency: the cluster supplies it.
 *
 * <pre>{@code
 * Dataset<Row> summary = ManyAdapters.builder().setModelPath("/models/smollm2.gguf").setOutputDir("/shared/adapters")
 *         .build().run(spark.read().json("/shared/records.jsonl"));
 * summary.show();
 * }</pre>
 *
 * @since 0.1.0
 */
package io.peft4j.spark;
