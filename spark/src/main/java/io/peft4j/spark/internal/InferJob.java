package io.peft4j.spark.internal;

import io.peft4j.core.generate.GenerationConfig;
import org.apache.spark.util.SerializableConfiguration;

import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;

/**
 * What every executor needs to run batch inference on its partitions.
 *
 * @param modelPath         the base model at the same path on every executor
 * @param quantization      {@code none}, {@code nf4}, {@code fp4} or {@code int8}
 * @param adapterRoot       folder that relative {@code adapter} values resolve against (an absolute local path or a
 *                          Hadoop URI), or {@code null}
 * @param template          chat template the prompt is rendered with as one user turn, or {@code null} (as given)
 * @param maxNewTokens      tokens to generate at most
 * @param temperature       0 for greedy decoding, else the sampling temperature
 * @param topK              sampling: the k most likely tokens (0: all)
 * @param topP              sampling: nucleus mass (1: all)
 * @param seed              sampling seed, the same for every row (as {@code peft4j generate --seed})
 * @param batchSize         greedy rows generated together (mixed adapters in one batch)
 * @param maxAdapters       adapters kept loaded per executor before the least recently used is unloaded
 * @param adapterBudgetBytes bytes of adapter weights kept loaded per executor (0: no byte budget, only the count)
 * @param promptIndex       index of the prompt column
 * @param adapterIndex      index of the adapter column, or -1 (every row uses the base model)
 * @param referenceIndex    index of the reference column, or -1 (no exact match)
 * @param hadoopConf        the driver's Hadoop configuration, for adapters on a Hadoop file system
 */
public record InferJob(String modelPath, String quantization, String adapterRoot, String template, int maxNewTokens,
                       double temperature, int topK, double topP, long seed, int batchSize, int maxAdapters,
                       long adapterBudgetBytes, int promptIndex, int adapterIndex, int referenceIndex,
                       SerializableConfiguration hadoopConf)
        implements Serializable {
    private static final long serialVersionUID = 2L;

    /** The generation settings, exactly as {@code peft4j generate} builds them from the same flags. */
    public GenerationConfig generationConfig() {
        return GenerationConfig.builder().optMaxNewTokens(maxNewTokens).optTemperature(temperature).optTopK(topK)
                .optTopP(topP).optSeed(seed).build();
    }

    /**
     * Where the adapter folder of a row's {@code adapter} value is: a Hadoop URI value as given; a {@code file:} URI
     * or an absolute path as that local path; a relative path against {@link #adapterRoot} (a Hadoop URI stays one),
     * or against the working folder without a root.
     */
    public String adapterLocation(String value) {
        if (HadoopFolders.isHadoop(value)) {
            return value;
        }
        if (value.startsWith("file:")) {
            return Path.of(URI.create(value)).toAbsolutePath().normalize().toString();
        }
        if (adapterRoot != null && HadoopFolders.isHadoop(adapterRoot) && !Path.of(value).isAbsolute()) {
            return adapterRoot + "/" + value;
        }
        Path dir = adapterRoot == null ? Path.of(value) : Path.of(adapterRoot).resolve(value);
        return dir.toAbsolutePath().normalize().toString();
    }
}
