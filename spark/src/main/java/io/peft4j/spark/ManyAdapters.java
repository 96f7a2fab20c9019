package io.peft4j.spark;

import io.peft4j.spark.internal.PartitionTrainer;
import io.peft4j.spark.internal.TaskPartitioner;
import io.peft4j.spark.internal.TaskRecord;
import io.peft4j.spark.internal.TaskResult;
import io.peft4j.spark.internal.TrainJob;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;

/**
 * The many-adapters job: one LoRA adapter per value of the {@code task} column, trained on the executors. Every
 * other column of a row (except an optional {@code split}, where {@code "eval"} marks held-out records) is one
 * field of an instruction record ({@code instruction/input/output}, {@code prompt/completion}, {@code messages}
 * ..., as {@code peft4j finetune --data} reads them). Tasks are spread round-robin over the partitions; each
 * executor JVM loads the base model once and trains its tasks one after another, each adapter written atomically
 * in PEFT's layout to {@code outputDir/<task>}. A task whose adapter is already complete (both
 * {@code adapter_config.json} and {@code adapter_model.safetensors} there) is skipped, so a re-run (or Spark's retry
 * of a failed partition) trains only what is missing. Records of a task train in input order, so input read from
 * files gives adapters bit-for-bit equal to {@code peft4j finetune} on the task's records. {@link #run} is eager: it
 * trains, then returns the summary (one row per task, {@link #SUMMARY_SCHEMA}).
 *
 * <p>The output folder may be local (a path or {@code file:} URI; the adapter is saved in place by an atomic folder
 * swap) or on any Hadoop file system ({@code hdfs://}, {@code s3a://}, ...): there each adapter is saved to a local
 * scratch folder on the executor, copied beside the target as {@code .<task>.tmp-<attempt>} and renamed into place,
 * so a failed attempt never leaves a partial folder under the task's name and its temp folder is removed once the
 * task is published. On HDFS the rename is atomic. On object stores (S3A ...) rename copies file by file: a crash
 * mid-rename can leave the final folder with only some files (each whole); it does not count as complete and is
 * replaced by the next attempt or re-run, but readers listing the output during the job may see it.
 *
 * <pre>{@code
 * ManyAdapters job = ManyAdapters.builder().setModelPath("/models/smollm2.gguf").setOutputDir("/shared/adapters")
 *         .optTraining(TrainingOptions.builder().optMaxSteps(200).build()).build();
 * job.run(spark.read().parquet("/shared/records.parquet")).show();
 * // the same on HDFS: .setOutputDir("hdfs://namenode:8020/adapters"), records from "hdfs://namenode:8020/records"
 * }</pre>
 *
 * @since 0.1.0
 */
public final class ManyAdapters {
    /** The column naming each record's task (and its adapter folder). */
    public static final String TASK = "task";
    /** The optional column marking evaluation records with {@value #EVAL}. */
    public static final String SPLIT = "split";
    /** The {@link #SPLIT} value of held-out evaluation records. */
    public static final String EVAL = "eval";
    /** One row per task: what was trained or skipped, and where the adapter is. */
    public static final StructType SUMMARY_SCHEMA = new StructType()
            .add("task", DataTypes.StringType, false)
            .add("status", DataTypes.StringType, false)
            .add("records", DataTypes.LongType, false)
            .add("steps", DataTypes.LongType, true)
            .add("train_loss", DataTypes.DoubleType, true)
            .add("eval_loss", DataTypes.DoubleType, true)
            .add("seconds", DataTypes.DoubleType, false)
            .add("adapter_path", DataTypes.StringType, false)
            .add("executor", DataTypes.StringType, false);
    private static final Pattern TASK_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Logger LOG = LoggerFactory.getLogger(ManyAdapters.class);

    private final TrainJob job;
    private final int partitions;

    private ManyAdapters(TrainJob job, int partitions) {
        this.job = job;
        this.partitions = partitions;
    }

    /** A builder: {@link Builder#setModelPath} and {@link Builder#setOutputDir} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Trains one adapter per task of {@code records} (those not already complete) and returns the summary.
     *
     * @throws IllegalArgumentException when there is no {@code task} column, no record column, or a task name is
     *                                  null or not a safe folder name ({@code [A-Za-z0-9][A-Za-z0-9._-]*})
     */
    public Dataset<Row> run(Dataset<Row> records) {
        List<String> columns = Arrays.asList(records.columns());
        if (!columns.contains(TASK)) {
            throw new IllegalArgumentException("the records need a '" + TASK + "' column; columns: " + columns);
        }
        Column[] fields = columns.stream().filter(c -> !c.equals(TASK) && !c.equals(SPLIT)).map(c -> col(c))
                .toArray(Column[]::new);
        if (fields.length == 0) {
            throw new IllegalArgumentException("the records have no field columns besides '" + TASK + "'");
        }
        List<String> tasks = tasks(records);
        Map<String, Integer> slots = new LinkedHashMap<>();
        tasks.forEach(t -> slots.put(t, slots.size()));
        SparkSession spark = records.sparkSession();
        int n = Math.max(1, Math.min(tasks.size(),
                partitions > 0 ? partitions : spark.sparkContext().defaultParallelism()));
        Column eval = columns.contains(SPLIT) ? coalesce(col(SPLIT).equalTo(EVAL), lit(false)) : lit(false);
        Dataset<Row> prepared = records.select(col(TASK).cast("string"), eval, to_json(struct(fields)),
                monotonically_increasing_id());
        LOG.info("training {} task adapters in {} partitions into {}", tasks.size(), n, job.outputDir());
        TrainJob j = job.withHadoopConf(spark.sparkContext().hadoopConfiguration());
        JavaRDD<TaskResult> results = prepared.javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), new TaskRecord(r.getLong(3), r.getBoolean(1),
                        r.getString(2))))
                .partitionBy(new TaskPartitioner(slots, n))
                .mapPartitions(it -> PartitionTrainer.run(j, it));
        List<Row> rows = new ArrayList<>();
        results.collect().stream().sorted(Comparator.comparing(TaskResult::task)).forEach(r -> rows.add(
                RowFactory.create(r.task(), r.status(), r.records(), r.steps(), r.trainLoss(), r.evalLoss(),
                        r.seconds(), r.adapterPath(), r.executor())));
        return spark.createDataFrame(rows, SUMMARY_SCHEMA);
    }

    /**
     * Records laid out as one folder per task ({@code dir/<task>/} holding Parquet or JSON Lines files) as one table
     * with the {@code task} column {@link #run} takes: each task's files are read in name order (hidden files and
     * Spark's {@code _SUCCESS} markers skipped), so a task's records keep the order of its files. {@code dir} is a
     * local path, a {@code file:} URI or a Hadoop URI ({@code hdfs://}, {@code s3a://}, ...), listed with the
     * session's Hadoop configuration.
     *
     * @throws IllegalArgumentException when {@code dir} is not such a folder or a file already has a {@code task}
     *                                  column
     */
    public static Dataset<Row> readTaskFolders(SparkSession spark, String dir) {
        org.apache.hadoop.fs.Path root = SparkInputs.hadoopPath(dir, "records");
        List<org.apache.hadoop.fs.FileStatus> taskDirs = SparkInputs.taskFolders(spark, dir);
        if (taskDirs.isEmpty()) {
            throw new IllegalArgumentException(root + " is not a folder of task folders");
        }
        Dataset<Row> all = null;
        for (org.apache.hadoop.fs.FileStatus taskDir : taskDirs) {
            String task = taskDir.getPath().getName();
            for (org.apache.hadoop.fs.Path file : SparkInputs.dataFiles(spark, taskDir.getPath())) {
                Dataset<Row> part = SparkInputs.read(spark, file.toString());
                if (Arrays.asList(part.columns()).contains(TASK)) {
                    throw new IllegalArgumentException(file + " already has a '" + TASK + "' column; in a folder per "
                            + "task the folder name is the task");
                }
                part = part.withColumn(TASK, lit(task));
                all = all == null ? part : all.unionByName(part, true);
            }
        }
        if (all == null) {
            throw new IllegalArgumentException(root + ": the task folders hold no data files");
        }
        return all;
    }

    /** The distinct task names in name order, each checked to be a safe folder name. */
    static List<String> tasks(Dataset<Row> records) {
        List<String> tasks = new ArrayList<>(records.select(col(TASK).cast("string")).distinct()
                .as(Encoders.STRING()).collectAsList());
        for (String t : tasks) {
            if (t == null || !TASK_NAME.matcher(t).matches()) {
                throw new IllegalArgumentException("task name " + (t == null ? "null" : "'" + t + "'")
                        + " is not a safe folder name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 128 characters)");
            }
        }
        tasks.sort(Comparator.naturalOrder());
        return tasks;
    }

    /** Builder of {@link ManyAdapters}. */
    public static final class Builder {
        private String modelPath;
        private String outputDir;
        private String quantization = "none";
        private TrainingOptions training = TrainingOptions.defaults();
        private int partitions;

        private Builder() {
        }

        /** The base model (GGUF file or Hugging Face folder), at this path on every executor. Required. */
        public Builder setModelPath(String v) { modelPath = v; return this; }

        /**
         * The folder that receives {@code <task>/}: a local path or {@code file:} URI (on a file system every executor
         * mounts), or a Hadoop URI ({@code hdfs://nn/adapters}, {@code s3a://bucket/adapters}, ...), reached with the
         * session's Hadoop configuration. Required.
         */
        public Builder setOutputDir(String v) { outputDir = v; return this; }

        /** Quantize the base on load: {@code none} (default), {@code nf4}, {@code fp4} or {@code int8}. */
        public Builder optQuantization(String v) { quantization = v; return this; }

        /** How each adapter is trained (default: {@code peft4j finetune}'s defaults). */
        public Builder optTraining(TrainingOptions v) { training = v; return this; }

        /** Training partitions (0, the default: Spark's default parallelism), capped by the number of tasks. */
        public Builder optPartitions(int v) { partitions = v; return this; }

        public ManyAdapters build() {
            Objects.requireNonNull(modelPath, "modelPath");
            Objects.requireNonNull(outputDir, "outputDir");
            if (partitions < 0) {
                throw new IllegalArgumentException("partitions must be >= 0, got " + partitions);
            }
            return new ManyAdapters(new TrainJob(modelPath, quantization, SparkPaths.location(outputDir, "outputDir"),
                    Objects.requireNonNull(training, "training")), partitions);
        }
    }
}
