package io.peft4j.spark.internal;

import io.peft4j.spark.TrainingOptions;
import org.apache.spark.util.SerializableConfiguration;

import java.io.Serializable;

/**
 * What every executor needs to train its tasks: the base model, where adapters go and how they are trained.
 *
 * @param modelPath    the base model (GGUF file or Hugging Face folder) at the same path on every executor
 * @param quantization {@code none}, {@code nf4}, {@code fp4} or {@code int8}
 * @param outputDir    the folder that receives one adapter folder per task: an absolute local path (shared by all
 *                     executors), or the URI of a Hadoop file system ({@link HadoopFolders#isHadoop})
 * @param options      the LoRA and trainer settings
 * @param hadoopConf   the driver's Hadoop configuration (its {@code spark.hadoop.*} settings included), for a Hadoop
 *                     {@code outputDir}; {@code null} for a local one
 */
public record TrainJob(String modelPath, String quantization, String outputDir, TrainingOptions options,
                       SerializableConfiguration hadoopConf) implements Serializable {
    private static final long serialVersionUID = 2L;

    /** A job writing to a local {@code outputDir} (or one whose Hadoop configuration {@link #withHadoopConf} adds). */
    public TrainJob(String modelPath, String quantization, String outputDir, TrainingOptions options) {
        this(modelPath, quantization, outputDir, options, null);
    }

    /** This job with {@code conf} (copied) as its Hadoop configuration when {@code outputDir} is a Hadoop URI. */
    public TrainJob withHadoopConf(org.apache.hadoop.conf.Configuration conf) {
        return HadoopFolders.isHadoop(outputDir) ? new TrainJob(modelPath, quantization, outputDir, options,
                new SerializableConfiguration(new org.apache.hadoop.conf.Configuration(conf))) : this;
    }
}
