package io.peft4j.spark;

import io.peft4j.spark.internal.InferJob;
import io.peft4j.spark.internal.PartitionGenerator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Batch inference: a DataFrame of prompts, each row with its own adapter, in; the same rows with
 * {@code generation} appended (and, when there is a {@code reference} column, {@code exact_match} and {@code loss}:
 * the mean negative log-likelihood of the reference's tokens after the prompt under the row's adapter, so one job
 * can evaluate many adapters at once) out. Each
 * executor JVM loads the base model once and each adapter folder once (keeping at most
 * {@link Builder#optMaxLoadedAdapters} loaded and, with {@link Builder#optAdapterMemoryMb}, at most that many MB of
 * adapter weights, least recently used unloaded first); rows of a partition are
 * generated in batches of {@link Builder#optBatchSize} with mixed adapters (greedy), or one at a time with the
 * job's seed (sampling). The {@code adapter} value is a PEFT adapter folder (absolute, or relative to
 * {@link Builder#optAdapterRoot}, e.g. the task name a {@link ManyAdapters} run wrote); null, empty or
 * {@code __base__} means the base model. An adapter on a Hadoop file system (an {@code hdfs://} or {@code s3a://}
 * root or value) is copied to a local folder once per executor and loaded from there, with the session's Hadoop
 * configuration. {@link #run} is lazy, like any Spark transformation.
 *
 * <pre>{@code
 * BatchInference job = BatchInference.builder().setModelPath("/models/smollm2.gguf")
 *         .optAdapterRoot("/shared/adapters").optMaxNewTokens(32).build();
 * job.run(spark.read().json("/shared/prompts.jsonl")).write().json("/shared/generations");
 * }</pre>
 *
 * @since 0.1.0
 */
public final class BatchInference {
    /** The default prompt column. */
    public static final String PROMPT = "prompt";
    /** The per-row adapter column (optional: without it every row uses the base model). */
    public static final String ADAPTER = "adapter";
    /** The optional reference column compared with the generation. */
    public static final String REFERENCE = "reference";
    /** The appended generation column. */
    public static final String GENERATION = "generation";
    /** The appended exact-match column (generation and reference equal after trimming white space). */
    public static final String EXACT_MATCH = "exact_match";
    /**
     * The appended loss column: mean negative log-likelihood (nats per token) of the reference's tokens following
     * the (rendered) prompt under the row's adapter; null for a null or empty reference.
     */
    public static final String LOSS = "loss";

    private final Builder b;

    private BatchInference(Builder b) {
        this.b = b;
    }

    /** A builder: {@link Builder#setModelPath} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The rows of {@code prompts} with their generations (lazy).
     *
     * @throws IllegalArgumentException when the prompt column is missing or a named column is not a string
     */
    public Dataset<Row> run(Dataset<Row> prompts) {
        StructType schema = prompts.schema();
        List<String> columns = Arrays.asList(schema.fieldNames());
        int prompt = stringColumn(schema, b.promptColumn, true);
        int adapter = stringColumn(schema, ADAPTER, false);
        int reference = stringColumn(schema, REFERENCE, false);
        for (String appended : List.of(GENERATION, EXACT_MATCH, LOSS)) {
            if (columns.contains(appended)) {
                throw new IllegalArgumentException("the input already has a '" + appended + "' column");
            }
        }
        StructType out = schema.add(GENERATION, DataTypes.StringType, false);
        if (reference >= 0) {
            out = out.add(EXACT_MATCH, DataTypes.BooleanType, true).add(LOSS, DataTypes.DoubleType, true);
        }
        SerializableConfiguration hadoop = adapter < 0 ? null : new SerializableConfiguration(
                new Configuration(prompts.sparkSession().sparkContext().hadoopConfiguration()));
        InferJob job = new InferJob(b.modelPath, b.quantization, b.adapterRoot, b.template, b.maxNewTokens,
                b.temperature, b.topK, b.topP, b.seed, b.batchSize, b.maxLoadedAdapters, b.adapterMemoryMb << 20,
                prompt, adapter, reference, hadoop);
        job.generationConfig();   // bad sampling settings fail here, on the driver
        return prompts.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> PartitionGenerator.run(job, rows),
                Encoders.row(out));
    }

    private static int stringColumn(StructType schema, String name, boolean required) {
        List<String> columns = Arrays.asList(schema.fieldNames());
        int i = columns.indexOf(name);
        if (i < 0) {
            if (required) {
                throw new IllegalArgumentException("the prompts need a '" + name + "' column; columns: " + columns);
            }
            return -1;
        }
        StructField f = schema.fields()[i];
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + name + "' must be a string, is " + f.dataType().simpleString());
        }
        return i;
    }

    /** Builder of {@link BatchInference}; generation defaults are {@code peft4j generate}'s. */
    public static final class Builder {
        private String modelPath;
        private String quantization = "none";
        private String adapterRoot;
        private String template;
        private String promptColumn = PROMPT;
        private int maxNewTokens = 64;
        private double temperature;
        private int topK;
        private double topP = 1.0;
        private long seed;
        private int batchSize = 8;
        private int maxLoadedAdapters = 16;
        private long adapterMemoryMb;

        private Builder() {
        }

        /** The base model (GGUF file or Hugging Face folder), at this path on every executor. Required. */
        public Builder setModelPath(String v) { modelPath = v; return this; }

        /** Quantize the base on load: {@code none} (default), {@code nf4}, {@code fp4} or {@code int8}. */
        public Builder optQuantization(String v) { quantization = v; return this; }

        /**
         * Folder that relative {@code adapter} values resolve against (default: the executor's working folder): a
         * local path or {@code file:} URI, or a Hadoop URI ({@code hdfs://}, {@code s3a://}, ...) whose adapters each
         * executor copies to a local folder once.
         */
        public Builder optAdapterRoot(String v) {
            adapterRoot = v == null ? null : SparkPaths.location(v, "adapterRoot");
            return this;
        }

        /** Render each prompt as one user turn with this template ({@code chat} or a built-in name); default as given. */
        public Builder optTemplate(String v) { template = v; return this; }

        /** The prompt column (default {@value BatchInference#PROMPT}). */
        public Builder optPromptColumn(String v) { promptColumn = v; return this; }

        /** Tokens to generate at most (default 64). */
        public Builder optMaxNewTokens(int v) { maxNewTokens = v; return this; }

        /** 0 (default) for greedy decoding, else the sampling temperature. */
        public Builder optTemperature(double v) { temperature = v; return this; }

        /** Sampling: the k most likely tokens (0, the default: all). */
        public Builder optTopK(int v) { topK = v; return this; }

        /** Sampling: nucleus mass (1, the default: all). */
        public Builder optTopP(double v) { topP = v; return this; }

        /** Sampling seed, the same for every row (default 0). */
        public Builder optSeed(long v) { seed = v; return this; }

        /** Greedy rows generated together in one mixed-adapter batch (default 8). */
        public Builder optBatchSize(int v) { batchSize = v; return this; }

        /** Adapters kept loaded per executor before the least recently used is unloaded (default 16). */
        public Builder optMaxLoadedAdapters(int v) { maxLoadedAdapters = v; return this; }

        /**
         * MB of adapter weights (fp32) kept loaded per executor before the least recently used adapter is unloaded
         * (default 0: no byte budget, only {@link #optMaxLoadedAdapters}); a batch's own adapters are never unloaded.
         */
        public Builder optAdapterMemoryMb(long v) { adapterMemoryMb = v; return this; }

        public BatchInference build() {
            Objects.requireNonNull(modelPath, "modelPath");
            if (adapterMemoryMb < 0) {
                throw new IllegalArgumentException("adapterMemoryMb must be >= 0 (0: no byte budget), got "
                        + adapterMemoryMb);
            }
            if (batchSize < 1 || maxLoadedAdapters < 1) {
                throw new IllegalArgumentException("batchSize and maxLoadedAdapters must be >= 1, got " + batchSize
                        + " and " + maxLoadedAdapters);
            }
            if (maxLoadedAdapters < batchSize) {
                throw new IllegalArgumentException("maxLoadedAdapters (" + maxLoadedAdapters + ") must be at least "
                        + "batchSize (" + batchSize + "): one batch may need that many adapters at once");
            }
            return new BatchInference(this);
        }
    }
}
