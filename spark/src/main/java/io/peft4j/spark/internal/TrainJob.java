package io.peft4j.spark.internal;

import io.peft4j.spark.TrainingOptions;

import java.io.Serializable;

/**
 * What every executor needs to train its tasks: the base model, where adapters go and how they are trained.
 *
 * @param modelPath    the base model (GGUF file or Hugging Face folder) at the same path on every executor
 * @param quantization {@code none}, {@code nf4}, {@code fp4} or {@code int8}
 * @param outputDir    the folder (shared by all executors) that receives one adapter folder per task
 * @param options      the LoRA and trainer settings
 */
public record TrainJob(String modelPath, String quantization, String outputDir, TrainingOptions options)
        implements Serializable {
    private static final long serialVersionUID = 1L;
}
